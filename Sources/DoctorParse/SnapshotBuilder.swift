import DoctorModel
import Foundation

/// Turns raw documents into the model of one end: recognise, parse, collect
/// the diagnostics. The model does not know where its facts came from.
public enum SnapshotBuilder {
    public static func build(_ inputs: CollectedInputs) -> EndpointSnapshot {
        var snap = EndpointSnapshot(label: inputs.label)
        snap.isLive = inputs.isLive
        snap.skipped = inputs.skipped
        snap.diagnostics = inputs.diagnostics
        for s in inputs.skipped where s.reason.contains("Pluto is not running") {
            snap.plutoNotRunning = SourceLine(file: s.input, line: 1, text: s.reason)
        }
        if let banner = inputs.versionBanner.map({ Redactor.redact(Substring($0)).escapingControlCharacters }) {
            if banner.contains("Libreswan") {
                snap.libreswanVersion = banner.trimmingCharacters(in: .whitespaces)
            } else if banner.lowercased().contains("strongswan") || banner.lowercased().contains("openswan") {
                snap.otherIKEDaemon = SourceLine(file: "ipsec --version", line: 1, text: banner)
            }
        }
        if let hung = inputs.timedOut.first(where: { $0.contains(" whack") }) {
            snap.plutoUnresponsive = SourceLine(file: hung, line: 1, text: "(no answer before the timeout; killed)")
        }
        var typed: [RawDocument] = []
        // A pasted session's sections share its name: each is listed as an input by where it starts.
        var inputNames: [String] = []
        for doc in inputs.documents {
            let (docs, diags) = InputRecognizer.resolve(doc)
            typed += docs
            inputNames += docs.map { docs.count > 1 ? "\($0.name):\($0.firstLine)" : $0.name }
            snap.diagnostics += diags
        }
        // Secrets first: a value the capture holds as a secret is masked wherever else it turns up.
        let known = KnownSecrets.harvest(typed)
        if !known.isEmpty { typed = typed.map { var d = $0; d.knownSecrets = known; return d } }
        // Interfaces first: orientation of connections needs the local addresses.
        for (doc, inputName) in zip(typed, inputNames) where doc.kind == .ipAddr || doc.kind == .ipLink {
            let (ifs, d) = IpAddrParser.parse(doc)
            snap.diagnostics += d
            snap.inputs[inputName] = doc.kind
            if doc.kind == .ipAddr || snap.interfaces == nil {
                var merged = snap.interfaces ?? []
                for i in ifs {
                    if let k = merged.firstIndex(where: { $0.name == i.name }) {
                        merged[k].addresses += i.addresses
                        merged[k].mtu = merged[k].mtu ?? i.mtu
                    } else {
                        merged.append(i)
                    }
                }
                snap.interfaces = merged
            }
        }
        var classifier = PlutoLogClassifier()
        for (doc, inputName) in zip(typed, inputNames) {
            guard let kind = doc.kind else { continue }
            snap.inputs[inputName] = kind
            // Structured inputs are read whole, up to LineSource.maxStructuredBytes (logs are streamed).
            if kind != .plutoLog && kind != .ipsecUp, case .file(let path) = doc.content,
                let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > LineSource.maxStructuredBytes
            {
                snap.diagnostics.append(InputDiagnostic(file: doc.name, line: nil,
                    message: "\(size >> 20) MiB: only the first \(LineSource.maxStructuredBytes >> 20) MiB are read; the rest is ignored"))
            }
            switch kind {
            case .ipAddr, .ipLink:
                continue
            case .ipsecConf:
                // A capture's includes stay inside the capture; live, the gateway's own paths are the truth.
                let (cfg, d) = IpsecConfParser.parse(doc, localAddresses: snap.localAddresses, confined: !inputs.isLive)
                snap.diagnostics += d
                if var existing = snap.config {
                    existing.connections += cfg.connections
                    existing.files += cfg.files
                    existing.setup.merge(cfg.setup) { a, _ in a }
                    snap.config = existing
                } else {
                    snap.config = cfg
                }
            case .ipsecSecrets:
                let (s, d) = SecretsParser.parse(doc)
                snap.secrets = (snap.secrets ?? []) + s
                snap.diagnostics += d
            case .ipsecUp, .plutoLog:
                readLog(doc, classifier: &classifier, into: &snap)
            case .trafficStatus:
                if let line = Self.plutoNotRunning(doc) { snap.plutoNotRunning = line; continue }
                snap.trafficStatus = (snap.trafficStatus ?? []) + TrafficStatusParser.parse(doc).0
            case .status:
                classifier.known = doc.knownSecrets
                if let line = Self.plutoNotRunning(doc) { snap.plutoNotRunning = line; continue }
                let r = StatusParser.parse(doc)
                // `our auth:rsasig` / `policy: PSK+...`: how this end authenticates, and `our idtype:` the ID it
                // sends, for the auth rules. Only those line shapes are classified: a hub's status has tens of thousands of other lines.
                try? LineSource(doc).forEachBytes { n, bytes in
                    let raw = UnsafeRawBufferPointer(bytes)
                    guard Self.ourAuth.withUnsafeBytes({ PlutoLogClassifier.find(raw, $0) }) || Self.policy.withUnsafeBytes({ PlutoLogClassifier.find(raw, $0) })
                        || Self.ourIDType.withUnsafeBytes({ PlutoLogClassifier.find(raw, $0) }),
                        let e = classifier.classify(bytes: bytes, file: doc.name, line: n), e.kind == .authMethod || e.kind == .ourID
                    else { return true }
                    snap.events.append(e)
                    return true
                }
                snap.statusStates = (snap.statusStates ?? []) + r.states
                snap.statusConnections = (snap.statusConnections ?? []) + r.connections
            case .xfrmPolicy:
                let (p, d) = XfrmPolicyParser.parse(doc)
                snap.policies = (snap.policies ?? []) + p
                snap.diagnostics += d
            case .xfrmState:
                let (s, d) = XfrmStateParser.parse(doc)
                snap.states = (snap.states ?? []) + s
                snap.diagnostics += d
            case .xfrmStat:
                let (s, d) = XfrmStatParser.parse(doc)
                snap.xfrmStat = (snap.xfrmStat ?? []) + s
                snap.diagnostics += d
            case .xfrmMonitor:
                snap.monitor = (snap.monitor ?? []) + XfrmMonitorParser.parse(doc).0
            case .nftRuleset:
                snap.natRules = (snap.natRules ?? []) + NftRulesetParser.parse(doc).0
                let (r, p) = FilterRuleParser.parseNft(doc)
                snap.filterRules = (snap.filterRules ?? []) + r
                snap.filterPolicies = (snap.filterPolicies ?? []) + p
            case .nftJSON:
                // The text ruleset, when present, gives the same rules with real line numbers.
                if typed.contains(where: { $0.kind == .nftRuleset }) { continue }
                let (r, d) = NftJSONParser.parse(doc)
                snap.natRules = (snap.natRules ?? []) + r
                snap.diagnostics += d
            case .iptablesSave:
                snap.natRules = (snap.natRules ?? []) + IptablesSaveParser.parse(doc).0
                let (r, p) = FilterRuleParser.parseIptablesSave(doc)
                snap.filterRules = (snap.filterRules ?? []) + r
                snap.filterPolicies = (snap.filterPolicies ?? []) + p
            case .ipRoute:
                let (r, d) = IpRouteParser.parse(doc)
                snap.routes = (snap.routes ?? []) + r
                snap.diagnostics += d
            case .ping:
                snap.pings = (snap.pings ?? []) + PingParser.parse(doc).0
            case .meta:
                if let lines = try? LineSource(doc).allLines(),
                    let obj = try? JSONSerialization.jsonObject(with: Data(lines.map(\.1).joined(separator: "\n").utf8)) as? [String: Any]
                {
                    snap.libreswanVersion = (obj["libreswan"] as? String).map { Redactor.redact(Substring($0)) }
                }
            }
        }
        // The recogniser's warnings were written before the secrets were known.
        if !known.isEmpty {
            snap.diagnostics = snap.diagnostics.map { var d = $0; d.message = known.scrub(d.message); return d }
        }
        return snap
    }

    static let ourAuth = Array("our auth:".utf8)
    static let policy = Array("policy: ".utf8)
    static let ourIDType = Array("our idtype: ".utf8)

    /// `whack: Pluto is not running (no "/run/pluto/pluto.ctl")` instead of a status output.
    static func plutoNotRunning(_ doc: RawDocument) -> SourceLine? {
        guard let lines = try? LineSource(doc).allLines() else { return nil }
        return lines.prefix(5).first { $0.1.contains("Pluto is not running") }.map { SourceLine(file: doc.name, line: $0.0, text: $0.1) }
    }

    /// Streams a log through the classifier (constant memory, one pass): one prefilter per line, and
    /// a String only for the lines that pass it.
    static func readLog(_ doc: RawDocument, classifier: inout PlutoLogClassifier, into snap: inout EndpointSnapshot) {
        var events = snap.events
        var count = 0
        var version = snap.libreswanVersion
        classifier.known = doc.knownSecrets
        do {
            try LineSource(doc).forEachBytes { n, bytes in
                count += 1
                guard classifier.mightMatch(bytes) else { return true }
                let line = String(decoding: bytes, as: UTF8.self)
                if let e = classifier.classify(Substring(line), file: doc.name, line: n) { events.append(e) }
                if version == nil, let r = line.range(of: "Libreswan Version ") {
                    // A version is letters, digits and dots; anything else in a mangled line stops it (no control
                    // character reaches the report header).
                    version = "Libreswan " + line[r.upperBound...].prefix(while: { $0.isASCII && ($0.isLetter || $0.isNumber || "._+-~".contains($0)) })
                }
                return true
            }
        } catch {
            snap.diagnostics.append(InputDiagnostic(file: doc.name, line: nil, message: "\(error)"))
        }
        events.linesRead += count
        snap.events = events
        snap.libreswanVersion = version
        snap.logFiles.append(doc.name)
    }
}
