import DoctorModel
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Classifies pluto's messages (log file, journal, `ipsec up` output) into
/// `IKEEvent`s by stable tokens, across Libreswan 3.x, 4.x and 5.x.
///
/// Real lines it reads (Libreswan 4.10, captured by scripts/lab):
///
///     003 "westnet-eastnet" #1: IKE SA authentication request rejected by peer: AUTHENTICATION_FAILED
///     Nov 23 11:01:12.862865: "westnet-eastnet" #1: authentication failed: computed hash does not match hash received from peer ID_FQDN '@west'
///     000 "westnet-eastnet" #1: ERROR: asynchronous network error report on vw (192.0.2.1:500), complainant 192.0.2.2: Connection refused [errno 111, origin ICMP type 3 code 3 (not authenticated)]
///     031 "westnet-eastnet" #2: STATE_QUICK_I1: 10 second timeout exceeded after 5 retransmits.  No acceptable response to our first Quick Mode message: perhaps peer likes no proposal
///     ERROR: "westnet-eastnet" #2: netlink response for Add SA esp.bd2ee529@192.0.2.1: Function not implemented (errno 38)
///
/// It is a streaming state machine: it remembers per connection whether the
/// IKEv1 ISAKMP SA was established, because an IKEv1 NO_PROPOSAL_CHOSEN
/// notify means "phase 1" before that and "Quick Mode" after.
public struct PlutoLogClassifier {
    var isakmpEstablished: Set<String> = []
    /// Connections whose IKEv1 Main/Aggressive Mode was seen starting: a secured notify before the ISAKMP SA
    /// is established still belongs to phase 1 (MAIN_I3 replies are encrypted).
    var phase1Started: Set<String> = []
    /// Where pluto's start-up algorithm self-test last printed `testing AES_GCM_16:` (file, line).
    var selfTest: (file: String, line: Int)?
    /// The capture's secrets: masked in every line the classifier keeps.
    public var known = KnownSecrets()

    public init() {}

    /// Every token rule in `kind(of:)` contains at least one of these (lower case). A line with none of
    /// them cannot be classified, so it is skipped without building a String: most of a pluto log
    /// (algorithm tables, debug lines) never leaves the byte level.
    static let anchors: [[UInt8]] = [
        "network error", "ikev1 packet", "drop all", "netlink", "xfrm_msg", "no_proposal", "no proposal", "no local proposal",
        "esp/ah proposals", "acceptable proposal", "authentication", "auth mismatch", "auth !=", "authorized", "timeout",
        "retransmission", "dpd", "liveness", "invalid_", "hash", "preshared", "peer", "psk", "private key", "cert", "x509",
        "nss: error", "nss database", "certificate authority", "ckaid", "cka_id",
        "informational", "cannot respond", "no suitable", "oakley", "traffic selectors", "ts_unacceptable",
        "established", "initiating", "fatal", "ipsec.service", "failed to start", "our auth:", "policy: ", "digital-signature", "shared-key-mac",
        "sending my cert", "has expired", "retransmit so", "deleting", "invalid_major_version", "allow ikev1", "notification",
        "pk12util", "pkcs12 import", "ipsec import", "our idtype:", "id type: id_", "redirects to new gateway", "testing ", "nss: aead",
        "anom_abend", "is pluto running",
        "libreswan version",  // not classified: lets the reader pick the version up in the same pass
    ].map { Array($0.utf8) }

    /// Anchors grouped by their first two (lower-case) bytes, and a 64 Ki table from bigram to group: the
    /// prefilter makes one pass over the line with a table lookup per byte and compares anchors only where
    /// one can start.
    static let anchorGroups: [[[UInt8]]] = Array(Dictionary(grouping: anchors) { Int($0[0]) << 8 | Int($0[1]) }.values)
    /// bigram -> 1 + index into anchorGroups (0: no anchor starts with it).
    static let bigramTable: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 65536)
        for (i, g) in anchorGroups.enumerated() { t[Int(g[0][0]) << 8 | Int(g[0][1])] = UInt8(i + 1) }
        return t
    }()

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b | 0x20 : b }

    /// True when the line contains one of the anchors (ASCII case-insensitive).
    public func mightMatch(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = bytes.count
        guard n >= 2 else { return false }
        let groups = Self.anchorGroups
        return Self.bigramTable.withUnsafeBufferPointer { table in
            var prev = Self.lower(bytes[0])
            var i = 1
            while i < n {
                let cur = Self.lower(bytes[i])
                let g = table[Int(prev) << 8 | Int(cur)]
                if g != 0 {
                    for a in groups[Int(g) - 1] where i - 1 + a.count <= n {
                        var j = 2
                        while j < a.count && Self.lower(bytes[i - 1 + j]) == a[j] { j += 1 }
                        if j == a.count { return true }
                    }
                }
                prev = cur
                i += 1
            }
            return false
        }
    }

    /// Substring search: memchr(3) for the first byte, memcmp(3) for the rest.
    static func find(_ hay: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer) -> Bool {
        let n = needle.count
        guard n > 0, hay.count >= n, let h = hay.baseAddress, let nd = needle.baseAddress else { return false }
        let first = Int32(nd.load(as: UInt8.self))
        var start = h
        let end = h + (hay.count - n + 1)
        while start < end {
            guard let p = memchr(start, first, end - start) else { return false }
            if memcmp(p, nd, n) == 0 { return true }
            start = UnsafeRawPointer(p) + 1
        }
        return false
    }

    /// Byte-level entry point for the log hot path.
    public mutating func classify(bytes: UnsafeBufferPointer<UInt8>, file: String, line: Int) -> IKEEvent? {
        guard mightMatch(bytes) else { return nil }
        return classify(Substring(String(decoding: bytes, as: UTF8.self)), file: file, line: line)
    }

    public mutating func classify(_ raw: Substring, file: String, line: Int) -> IKEEvent? {
        let rawMsg = LogPrefix.strip(raw)
        // Debug lines, but for the one that says which ID type went out (an admin's `grep "ID type"`) and the
        // fixed one a responder prints when the initiator expects another ID (it holds nothing variable).
        if rawMsg.isEmpty || (rawMsg.hasPrefix("|") && Self.debugIDType(rawMsg) == nil && !Self.isIDrMismatch(rawMsg)) { return nil }
        // The kind is read from the raw message (nothing of it is kept); everything kept from here on
        // (connection name, details, evidence) comes from the redacted line.
        let rawLower = LowerBytes(rawMsg)
        // Pluto's start-up self-test (`testing AES_GCM_16:`, then its vectors): each algorithm's test is a passert,
        // so an NSS failure inside it is pluto aborting, not a packet that failed to decrypt.
        if rawMsg.hasPrefix("testing "), rawMsg.hasSuffix(":"), !rawMsg.contains(" \"") {
            selfTest = (file, line)
            return nil
        }
        let selfTestFailed = selfTest.map { $0.file == file && line - $0.line <= 40 } == true && rawLower.has("nss: ") && rawLower.has(" failed")
        guard let rawKind = selfTestFailed ? .plutoAborted : kind(of: rawLower) else { return nil }
        let text = Redactor.redact(raw, known: known)
        // Usually redaction changes nothing: then the raw message's reading stands.
        let unchanged = text.utf8.count == raw.utf8.count && text.utf8.elementsEqual(raw.utf8)
        let msg = unchanged ? rawMsg : LogPrefix.strip(Substring(text))
        let lowerBytes = unchanged ? rawLower : LowerBytes(msg)
        guard let kind = unchanged || selfTestFailed ? rawKind : kind(of: lowerBytes) else { return nil }
        let lower = String(decoding: lowerBytes.bytes, as: UTF8.self)
        let (conn, serial) = Self.connectionAndSerial(msg)
        var details: [String: String] = [:]
        var finalKind = kind
        let state = Self.stateName(msg, mayHaveInState: lowerBytes.has("in state "))
        // `packet from 192.0.2.1:500: ...` names no connection, only the peer.
        if msg.hasPrefix("packet from ") {
            let addr = msg.dropFirst("packet from ".count).prefix(while: { $0 != " " }).dropLast(while: { $0 == ":" })
            if let colon = addr.lastIndex(of: ":"), !addr.contains("::") || addr.hasSuffix("]") {
                details["peerAddress"] = String(addr[..<colon])
            } else {
                details["peerAddress"] = String(addr)
            }
        }
        switch kind {
        case .icmpError:
            details["errno"] = Self.number(after: "errno ", in: lower)
            details["complainant"] = Self.word(after: "complainant ", in: String(msg))?.trimmingSuffix(":")
            if let r = lower.range(of: "origin icmp type ") {
                let rest = lower[r.upperBound...]
                details["icmpType"] = String(rest.prefix(while: \.isNumber))
                details["icmpCode"] = Self.number(after: "code ", in: String(rest))
            }
            if let c = msg.range(of: "complainant "), let colon = msg[c.upperBound...].range(of: ": "),
                let bracket = msg[colon.upperBound...].firstIndex(of: "[")
            {
                details["error"] = String(msg[colon.upperBound..<bracket]).trimmingCharacters(in: .whitespaces)
            }
        case .ikev1NotifyReceived:
            let notify = Self.notifyName(in: msg) ?? "?"
            details["notify"] = notify
            let secured = lower.contains("ignoring secured informational")
            let established = conn.map { isakmpEstablished.contains($0) } == true
            let inPhase1 = conn.map { phase1Started.contains($0) } == true && !established
            let phase2 = established || (secured && !inPhase1)
            switch notify {
            case "NO_PROPOSAL_CHOSEN": finalKind = phase2 ? .childNoProposalReceived : .ikeNoProposalReceived
            // Before the ISAKMP SA: the peer refused our identity. After: our Quick Mode selectors.
            case "INVALID_ID_INFORMATION": finalKind = phase2 ? .invalidIDReceived : .idRejectedReceived
            case "INVALID_HASH_INFORMATION": finalKind = .ikev1HashMismatch
            case "AUTHENTICATION_FAILED": finalKind = .authFailedReceived
            // The peer could not verify our key or certificate (5.4 nss-cert-05-ikev1: a CA it does not allow).
            case "INVALID_KEY_INFORMATION": finalKind = .authFailedReceived
            case "INVALID_MAJOR_VERSION": finalKind = .ikeVersionRefused
            default: return nil
            }
        case .certificateError, .noPSKFound:
            details["cause"] = Self.credentialCause(lowerBytes)
            if let r = msg.range(of: " certificate '"), lowerBytes.has("not found in the nss database") {
                details["certificate"] = String(msg[r.upperBound...].prefix(while: { $0 != "'" }))
            }
        case .establishedIKESADeleted:
            if let r = lower.range(of: " aged ") { details["aged"] = String(lower[r.upperBound...].prefix(while: { $0.isNumber || $0 == "." })) }
            details["byPeer"] = lower.contains("not sending notification") ? "yes" : "no"
        case .plutoAborted:
            details["cause"] = selfTestFailed ? "crypto-self-test" : Self.abortCause(lowerBytes)
        case .authMethod:
            details["method"] = Self.authMethod(lowerBytes)
            // 5.x names the ID it sends: `... with digital-signature ... and IPV4_ADDR '192.1.2.45'; Child SA #2 ...`
            for idType in ["IPV4_ADDR", "IPV6_ADDR", "FQDN", "USER_FQDN", "DER_ASN1_DN", "KEY_ID"] {
                guard let r = msg.range(of: " and \(idType) '") else { continue }
                details["idType"] = idType
                details["id"] = String(msg[r.upperBound...].prefix(while: { $0 != "'" }))
                break
            }
        case .ourID:
            // `our idtype: ID_IPV4_ADDR; our id=192.1.2.45; their idtype: ...` (3.x/4.x spell the type ID_...)
            if let r = msg.range(of: "our idtype: ") {
                details["idType"] = String(msg[r.upperBound...].prefix(while: { $0 != ";" && $0 != " " })).replacingOccurrences(of: "ID_", with: "")
                if let i = msg.range(of: "our id=") { details["id"] = String(msg[i.upperBound...].prefix(while: { $0 != ";" })) }
            } else if let t = Self.debugIDType(msg) {
                details["idType"] = t
            } else {
                return nil
            }
        case .kernelSAInstallFailed:
            details["errno"] = Self.number(after: "errno ", in: lower)
        case .kernelSAGone:
            // `Get SA esp.4ef0eaa5@192.0.2.2:` -> the SA pluto lost.
            if let r = msg.range(of: "Get SA ") { details["sa"] = String(msg[r.upperBound...].prefix(while: { $0 != ":" && $0 != " " })) }
        case .timeout, .retransmission, .authTimeout, .quickModeNoProposalTimeout:
            details["retransmits"] = Self.number(after: "after ", in: lower)
        case .ikeNoProposalLocal, .childNoProposalLocal:
            if lowerBytes.has("] refused") { details["partial"] = "yes" }
            if let r = msg.range(of: "remote proposals ") { details["remoteProposals"] = String(msg[r.upperBound...]) }
            if let r = msg.range(of: "Oakley Transform [") {
                details["remoteProposals"] = String(msg[r.upperBound...].prefix(while: { $0 != "]" }))
            }
        case .peerIDMismatch:
            if let r = msg.range(of: "Peer ID '") ?? msg.range(of: "but peer declares '") ?? msg.range(of: "' does not match expected").flatMap({ end in msg[..<end.lowerBound].range(of: "'", options: .backwards) }) {
                details["peerID"] = String(msg[r.upperBound...].prefix(while: { $0 != "'" }))
            }
        case .ikeEstablished:
            if let conn { isakmpEstablished.insert(conn) }
            if let r = msg.range(of: "{") { details["algorithms"] = String(msg[r.upperBound...].prefix(while: { $0 != "}" })) }
        case .childEstablished:
            if let r = msg.range(of: "xfrm=") { details["xfrm"] = String(msg[r.upperBound...].prefix(while: { $0 != " " && $0 != "}" })) }
            details["natt"] = lower.contains("espinudp") || lower.contains("natd=") && !lower.contains("natd=none") ? "yes" : "no"
            if let r = msg.range(of: "IPsec SA established ") { details["mode"] = String(msg[r.upperBound...].prefix(while: { $0 != " " })) }
            if lower.contains("transport mode") { details["mode"] = "transport" }
            if lower.contains("tunnel mode") || lower.contains("ipsec tunnel") { details["mode"] = "tunnel" }
        case .ikev1NoConnectionForQuickMode:
            if let r = msg.range(of: "no connection is known for ") { details["proposed"] = String(msg[r.upperBound...]) }
        case .noSuitableConnection:
            details["ikeVersion"] = lower.contains("main mode") || lower.contains("aggressive mode") ? "IKEv1" : "IKEv2"
        case .redirected:
            if let r = msg.range(of: "redirects to new gateway ") {
                details["gateway"] = String(msg[r.upperBound...].prefix(while: { $0.isHexDigit || $0 == "." || $0 == ":" }))
            }
        case .initiating:
            if let conn, lower.contains("main mode") || lower.contains("aggressive") { phase1Started.insert(conn) }
            details["ikeVersion"] = lower.contains("ikev1") || lower.contains("main mode") || lower.contains("aggressive") ? "IKEv1" : "IKEv2"
        default:
            break
        }
        if lowerBytes.has("ikev1") || lowerBytes.has("main mode") || lowerBytes.has("quick mode") || state?.hasPrefix("STATE_MAIN") == true
            || state?.hasPrefix("STATE_QUICK") == true || state?.hasPrefix("STATE_AGGR") == true
        {
            details["ikeVersion"] = details["ikeVersion"] ?? "IKEv1"
        }
        return IKEEvent(
            kind: finalKind, connection: conn, serial: serial, state: state, details: details,
            source: SourceLine(file: file, line: line, text: text))
    }

    /// Token rules, most specific first.
    func kind(of m: LowerBytes) -> IKEEventKind? {
        if m.has("asynchronous network error report") { return .icmpError }
        if m.has("ignoring ikev1 packet") || m.has("drop all ikev1") { return .ikev1Dropped }
        if m.has("netlink response for add sa") || m.has("netlink response for xfrm_msg_newsa")
            || m.has("netlink response for xfrm_msg_updsa")
            || (m.has("xfrm_msg_newpolicy") && m.has("errno"))
        {
            return .kernelSAInstallFailed
        }
        // pluto asks the kernel about an SA it believes it installed (traffic counters, liveness): gone.
        if m.has("netlink response for get sa") && (m.has("no such process") || m.has("errno 3)")) { return .kernelSAGone }
        if m.has("perhaps peer likes no proposal") { return .quickModeNoProposalTimeout }
        if m.has("does not allow ikev1 connections") { return .ikeVersionRefused }
        // The responder's own refusal, as it answers: `sending encrypted notification NO_PROPOSAL_CHOSEN to ...`.
        if m.has("sending") && m.has("notification") && !m.has("informational") {
            if m.has("no_proposal_chosen") {
                return m.has("sending encrypted notification") || m.has("quick_r") || m.has("ike_auth") || m.has("create_child") ? .childNoProposalLocal : .ikeNoProposalLocal
            }
            if m.has("ts_unacceptable") || (m.has("invalid_id_information") && m.has("encrypted")) { return .tsNoMatchLocal }
            if m.has("invalid_major_version") { return .ikeVersionRefused }
        }
        if m.has("possible authentication failure") { return .authTimeout }
        if m.has("timeout exceeded after") || m.has("max number of retransmissions") {
            if m.has("established_ike_sa") || m.has("main_i4") || m.has("main_r3") || m.has("established ike sa") {
                return .dpdAction
            }
            return .timeout
        }
        if m.has("retransmission; will wait") { return .retransmission }
        // The test suite's impairment stands in for the timeout it cuts short (`IMPAIR: ... retransmit so timing out SA`).
        if m.has("retransmit so timing out") || m.has("retransmit so deleting") { return .timeout }
        if m.has("dpd action") || m.has("liveness action") || m.has("liveness: action") || m.has("dpd: no response") { return .dpdAction }
        if m.has("invalid_ke_payload") { return .invalidKE }
        if m.has("computed hash does not match") || m.has("received auth != computed auth")
            || m.has("auth mismatch")
        {
            return .pskHashMismatch
        }
        if m.has("hash payload does not match") || m.has("mismatch of preshared secrets")
            || (m.has("invalid_hash_information") && !m.has("ignoring"))
            || (m.has("hash(") && m.has("does not match computed value"))
        {
            return .ikev1HashMismatch
        }
        if m.has("peer attempted") && m.has("but we want") { return .authMethodMismatch }
        if m.has("no psk found for") || m.has("unable to locate my private key")
            || m.has("can't find the certificate or private key")
        {
            return .noPSKFound
        }
        if m.has("peer id '") && m.has("mismatched") { return .peerIDMismatch }
        if m.has("peer idr payload does not match our expected id") { return .peerIDMismatch }
        // IKEv1 initiator (Tests/corpus/threads/gh-nm-l2tp-NetworkManager-l2tp-85.txt):
        //     we require IKEv1 peer to have ID 'X.X.X.X', but peer declares '@remote.example.com'
        if m.has("we require ikev1 peer to have id '") && m.has("but peer declares '") { return .peerIDMismatch }
        // The certificate is good but the ID it carries is not the one this end's rightid expects (3.x-5.x):
        //     "san" #1: X509: authentication failed; peer ID DER_ASN1_DN (4.x: peer ID_DER_ASN1_DN) 'E=user-east@...,CN=east...' does not match expected 'C=CA, ..., CN=NOTeast...'
        if m.has("x509: authentication failed; peer id") && m.has("does not match expected") { return .peerIDMismatch }
        if m.has("x509: authentication failed") || m.has("nss: error") || m.has("certificate payload rejected")
            || m.has("x509: certificate rejected") || m.has("cert payload bogus") || m.has("not found in the nss database")
            || m.has("no certificate authority in nss") || m.has("unmatched ike id in certificate")
            || m.has("cert payload does not match connection id") || (m.has("ckaid") && m.has("not found"))
            || m.has("certificate revoked") || m.has("peer's certificate") || (m.has("certificate '") && m.has("has expired"))
            || m.has("authentication failed: no certificate matched")
        {
            return .certificateError
        }
        if m.has("authentication_failed") && !m.has("responding to") && !m.has("sending") { return .authFailedReceived }
        if m.has("ignoring informational payload") || m.has("informational payload")
            && (m.has("ignoring unsecured") || m.has("ignoring secured"))
        {
            return .ikev1NotifyReceived
        }
        if m.has("cannot respond to ipsec sa request because no connection is known") { return .ikev1NoConnectionForQuickMode }
        if m.has("no suitable connection") || m.has("no connection has been authorized") { return .noSuitableConnection }
        if m.has("no local proposal matches remote proposals") {
            return m.has(":ike:") ? .ikeNoProposalLocal : .childNoProposalLocal
        }
        if m.has("no acceptable oakley transform") { return .ikeNoProposalLocal }
        // IKEv1 responder, one line per transform it turns down (`Oakley Transform [3DES_CBC (192), HMAC_MD5,
        // MODP1024] refused`); a refusal only counts when no IKE SA was established after it (see the rule).
        if m.has("oakley transform [") && m.has("] refused") { return .ikeNoProposalLocal }
        if m.has("matching remote esp/ah proposals failed") || m.has("no acceptable proposal in ipsec sa")
            || (m.has("create_child_sa request failed") && m.has("no_proposal_chosen"))
        {
            return .childNoProposalLocal
        }
        if m.has("no_proposal_chosen") {
            if m.has("responding to") || m.has("sending") { return nil }
            // 3.x names the state, not the exchange: PARENT_I1 is IKE_SA_INIT, PARENT_I2 is IKE_AUTH.
            if m.has("ike_sa_init") || m.has("parent_i1") { return .ikeNoProposalReceived }
            if m.has("ike_auth") || m.has("child sa") || m.has("create_child_sa") || m.has("parent_i2") { return .childNoProposalReceived }
            return nil
        }
        if m.has("compatible traffic selectors") || m.has("responding with ts_unacceptable") { return .tsNoMatchLocal }
        if m.has("ts_unacceptable") && !m.has("responding to") { return .tsUnacceptableReceived }
        if m.has("invalid_major_version") && !m.has("sending") { return .ikeVersionRefused }
        if m.has("established child sa") || m.has("ipsec sa established") { return .childEstablished }
        if m.has("established ike sa") || m.has("isakmp sa established") || m.has("ike sa established {")
            || m.has("ike sa established;")
        {
            return .ikeEstablished
        }
        if m.has("our idtype:") || m.has("id type: id_") { return .ourID }
        if m.has("redirects to new gateway") { return .redirected }
        if Self.authMethod(m) != nil { return .authMethod }
        if m.has("initiating ikev2") || m.has("initiating ikev1") || m.has("initiating main mode")
            || m.has("initiating aggressive mode")
        {
            return .initiating
        }
        if m.has("encountered fatal error in state") { return .fatal }
        // An established IKE SA torn down; `NOT sending notification` means the peer asked for it.
        if (m.has("deleting state (state_v2_established_ike_sa)") || m.has("deleting ike sa (established ike sa)")
            || m.has("deleting state (state_parent_r2)") || m.has("deleting state (state_parent_i3)"))
        {
            return .establishedIKESADeleted
        }
        // `FATAL ERROR: ...` (3.x-5.x) and `pluto: FATAL: unable to create lock dir` at start-up; not a state's
        // `encountered fatal error in state ...`, which is a negotiation ending. The audit log's ANOM_ABEND of
        // pluto is a crash; whack's `is Pluto running?` says there is no daemon to talk to.
        if (m.has("fatal error:") && !m.has("encountered fatal error")) || m.has("pluto: fatal:") || m.has("fatal: unable to")
            || (m.has("ipsec.service") && (m.has("failed with result") || m.has("main process exited")))
            || m.has("failed to start ipsec") || m.has("failed to start internet key exchange")
            || (m.has("anom_abend") && m.has("comm=\"pluto\"")) || m.has("is pluto running?")
        {
            return .plutoAborted
        }
        return nil
    }

    /// Why pluto stopped at start-up (`FATAL ERROR: NSS readonly initialization ("sql:/var/lib/ipsec/nss") failed`).
    static func abortCause(_ m: LowerBytes) -> String? {
        if m.has("is pluto running?") { return "not-running" }
        if m.has("anom_abend") { return "crash" }
        if m.has("nss") { return "nss" }
        if m.has("fips") { return "fips" }
        if m.has("kernel") || m.has("xfrm") || m.has("pf_key") || m.has("netlink") { return "kernel" }
        if m.has("lock") || m.has("pid file") { return "lock" }
        if m.has("socket") { return "socket" }
        if m.has("addconn") || m.has("config") || m.has("ipsec.conf") { return "config" }
        return nil
    }

    /// The responder's debug line when the initiator's IDr payload names another ID than the connection's own
    /// (Tests/corpus/threads/gh-libreswan-237.txt: `leftid=@2.2.2.2` sent as a name where the client expects the
    /// address): exactly this text, nothing variable in it.
    ///
    ///     Feb 28 04:02:53.609020: | Peer IDr payload does not match our expected ID, this connection will not do
    static func isIDrMismatch(_ msg: Substring) -> Bool {
        msg.dropFirst().drop(while: { $0 == " " }) == "Peer IDr payload does not match our expected ID, this connection will not do"
    }

    /// The ID type of pluto's payload dump, `IPV4_ADDR` from `|    ID type: ID_IPV4_ADDR (0x1)` (5.3+:
    /// `(1, 0x01)`); nil for any other line. Exactly that shape: it is the only debug line read (debug lines
    /// can hold secrets).
    static func debugIDType(_ msg: Substring) -> String? {
        let body = msg.dropFirst().drop(while: { $0 == " " })
        guard msg.first == "|", body.hasPrefix("ID type: ID_") else { return nil }
        let rest = body.dropFirst("ID type: ID_".count)
        let type = rest.prefix(while: { ($0.isASCII && $0.isUppercase) || $0.isNumber || $0 == "_" })
        let tail = rest.dropFirst(type.count)
        guard !type.isEmpty, tail.hasPrefix(" ("), tail.hasSuffix(")") else { return nil }
        let inner = tail.dropFirst(2).dropLast()
        let hex: (Substring) -> Bool = { $0.hasPrefix("0x") && $0.count > 2 && $0.dropFirst(2).allSatisfy(\.isHexDigit) }
        // `0x1`, or `1, 0x01`: a decimal, a comma and a blank, then the hex.
        if hex(inner) { return String(type) }
        let parts = inner.split(separator: ",", maxSplits: 1)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy(\.isNumber), parts[1].hasPrefix(" "), hex(parts[1].dropFirst()) else { return nil }
        return String(type)
    }

    /// How this end authenticates, `psk`, `signature` or `null`, where a line says so:
    ///
    ///     000 "nss-cert-ocsp":   our auth:rsasig(RSASIG+RSASIG_v1_5), their auth:RSASIG+ECDSA+RSASIG_v1_5, ...   (4.x/5.x status)
    ///     000 "westnet-eastnet":   policy: PSK+ENCRYPT+TUNNEL+PFS+IKEV2_ALLOW+...                           (3.x status)
    ///     "san" #1: sent IKE_AUTH request to 192.1.2.23:UDP/500 with digital-signature RSASSA-PSS with SHA2_512 ... (5.x)
    static func authMethod(_ m: LowerBytes) -> String? {
        // NSS certificate work in a pasted session (importing a PKCS#12, deleting or trusting a certificate)
        // says certificates are in use; listing (`certutil -L`) or creating a database (`-N`) does not, PSK
        // setups do that too.
        //
        //     west #
        //      ipsec pk12util -i OUTPUT/west-notyetvalid.p12 -W secret
        //     pk12util: PKCS12 IMPORT SUCCESSFUL
        if m.has("pkcs12 import successful") || m.has("pk12util -i") || m.has("ipsec import ")
            || (m.has("certutil -") && !m.has(" -l") && !m.has("certutil -n ") && (m.has(" -a ") || m.has(" -d -n ") || m.has(" -m ")))
        {
            return "signature"
        }
        if m.has("our auth:") {
            if m.has("our auth:secret") || m.has("our auth:psk") { return "psk" }
            if m.has("our auth:rsasig") || m.has("our auth:ecdsa") || m.has("our auth:rsa") { return "signature" }
            if m.has("our auth:null") { return "null" }
            return nil
        }
        if m.has("i am sending my cert") { return "signature" }
        if m.has("sent ike_auth request") {
            if m.has("with digital-signature") || m.has("with rsa") || m.has("with ecdsa") { return "signature" }
            if m.has("with shared-key-mac") { return "psk" }
            return nil
        }
        if m.has("policy: ") && !m.has("policy: ikev1_allow") {
            // The policy's first authentication token: `PSK+ENCRYPT`, `RSASIG+ECDSA+ENCRYPT`, `IKEv2+PSK+...`.
            if m.has("policy: psk+") || m.has("policy: ikev2+psk+") || m.has("policy: ikev1+psk+") { return "psk" }
            if m.has("policy: rsasig") || m.has("policy: ecdsa") || m.has("policy: ikev2+rsasig") || m.has("policy: ikev1+rsasig")
                || m.has("policy: ikev2+ecdsa")
            {
                return "signature"
            }
            if m.has("policy: authnull") || m.has("policy: ikev2+authnull") { return "null" }
        }
        return nil
    }

    /// The specific credential failure (the `cause` of auth-failed / id-mismatch findings), from NSS's
    /// error names and pluto's X509 wording across 3.x-5.x:
    ///
    ///     "C" #1: NSS: ERROR: IPsec certificate CN=east-expired invalid: SEC_ERROR_EXPIRED_CERTIFICATE: Peer's Certificate has expired.
    ///     "san" #1: X509: authentication failed; peer certificate subjectAltName extension does not match USER_FQDN '...'
    ///     "missing": failed to add connection: left certificate 'west' not found in the NSS database
    static func credentialCause(_ m: LowerBytes) -> String? {
        if m.has("revoked") { return "certificate-revoked" }
        if m.has("not yet valid") || m.has("sec_error_cert_not_valid") { return "certificate-not-yet-valid" }
        if m.has("expired") { return "certificate-expired" }
        if m.has("unknown_issuer") || m.has("untrusted_issuer") || m.has("issuer is not recognized") || m.has("no certificate authority")
            || m.has("sec_error_ca_cert_invalid") || m.has("untrusted_cert")
        {
            return "unknown-ca"
        }
        // 5.x: `authentication failed: no certificate matched RSASSA-PSS with SHA2_512 and '192.1.2.23'`: no
        // certificate of the peer's carries the ID it sent.
        if m.has("subjectaltname") || m.has("certificate san") || m.has("does not match connection id") || m.has("no certificate matched") {
            return "id-not-in-san"
        }
        if m.has("not found in the nss database") { return "cert-not-in-nss" }
        if m.has("private key") || m.has("ckaid") || m.has("cka_id") { return "private-key-missing" }
        if m.has("no psk found") { return "no-psk" }
        return nil
    }

    /// `"westnet-eastnet"[1] 192.0.2.9 #3: ...` -> ("westnet-eastnet", 3). Also `ERROR: "c" #2:`.
    static func connectionAndSerial(_ msg: Substring) -> (String?, Int?) {
        var conn: String?
        var serial: Int?
        if let q1 = msg.firstIndex(of: "\""), msg.utf8.distance(from: msg.startIndex, to: q1) <= 8 {
            let rest = msg[msg.index(after: q1)...]
            if let q2 = rest.firstIndex(of: "\"") {
                var name = String(rest[..<q2])
                // Instances and subnet alternatives: "conn/1x2" and "conn"[1] keep the base name.
                if let slash = name.firstIndex(of: "/") { name = String(name[..<slash]) }
                conn = name
            }
        }
        if let hash = msg.firstIndex(of: "#") {
            let digits = msg[msg.index(after: hash)...].prefix(while: \.isNumber)
            if !digits.isEmpty { serial = Int(digits) }
        }
        return (conn, serial)
    }

    /// The state name in `STATE_MAIN_I3: ...`, `IKE_AUTH_I: ...`.
    static func stateName(_ msg: Substring, mayHaveInState: Bool = true) -> String? {
        for token in msg.split(separator: " ").prefix(6) {
            let t = token.hasSuffix(":") ? token.dropLast() : token
            if t.hasPrefix("STATE_") || t == "IKE_SA_INIT_I" || t == "IKE_AUTH_I" || t == "ESTABLISHED_IKE_SA"
                || t == "ESTABLISHED_CHILD_SA" || t == "IKE_SA_INIT_R" || t == "IKE_AUTH_R"
            {
                return String(t)
            }
        }
        if mayHaveInState, let r = msg.range(of: "in state ") {
            return String(msg[r.upperBound...].prefix(while: { $0 != " " && $0 != "," }))
        }
        return nil
    }

    static let notifyNames = [
        "NO_PROPOSAL_CHOSEN", "INVALID_ID_INFORMATION", "INVALID_HASH_INFORMATION", "AUTHENTICATION_FAILED",
        "TS_UNACCEPTABLE", "INVALID_KE_PAYLOAD", "INVALID_MAJOR_VERSION", "PAYLOAD_MALFORMED", "INVALID_KEY_INFORMATION",
    ]

    static func notifyName(in msg: Substring) -> String? { notifyNames.first { msg.contains($0) } }

    static func number(after token: String, in s: String) -> String? {
        guard let r = s.range(of: token) else { return nil }
        let d = s[r.upperBound...].prefix(while: \.isNumber)
        return d.isEmpty ? nil : String(d)
    }

    static func word(after token: String, in s: String) -> String? {
        guard let r = s.range(of: token) else { return nil }
        return String(s[r.upperBound...].prefix(while: { $0 != " " }))
    }
}

/// A message lower-cased (ASCII) into bytes, searched without allocating: the token rules run on every
/// line that passes the anchor prefilter, so they must not cost a String operation each.
struct LowerBytes {
    var bytes: [UInt8]

    init(_ s: Substring) {
        bytes = s.utf8.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }
    }

    func has(_ needle: StaticString) -> Bool {
        bytes.withUnsafeBytes { hay in
            PlutoLogClassifier.find(hay, UnsafeRawBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount))
        }
    }
}

extension Substring {
    func dropLast(while pred: (Character) -> Bool) -> Substring {
        var s = self
        while let l = s.last, pred(l) { s = s.dropLast() }
        return s
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
