import DoctorModel
import Testing

@testable import DoctorParse

/// The lab runs Libreswan 4.10 only. These lines are other versions' real output, taken from Libreswan's
/// own test suite (testing/pluto/<scenario>/<host>.console.txt at the tag named) and from user reports,
/// as collected in shared/reference/libreswan-strongswan.md. Wording drifts; the kind must not.
@Suite("Libreswan 3.x / 4.x / 5.x wording drift")
struct WordingDriftTests {
    static let lines: [(String, IKEEventKind, String)] = [
        // b.3 IKE proposal mismatch, initiator: four wordings
        ("\"office_ipsec/3x0\" #111: STATE_PARENT_I1: received unauthenticated v2N_NO_PROPOSAL_CHOSEN - ignored", .ikeNoProposalReceived, "3.x libreswan#701"),
        ("003 \"westnet-eastnet-md5\" #1: dropping unexpected IKE_SA_INIT message containing NO_PROPOSAL_CHOSEN notification; message payloads: N; missing payloads: SA,KE,Ni", .ikeNoProposalReceived, "v4.15 fips-04-ikev2-md5"),
        ("\"westnet-eastnet-md5\" #1: unexpected IKE_SA_INIT message containing NO_PROPOSAL_CHOSEN notification; message payloads: N; missing payloads: SA,KE,Ni", .ikeNoProposalReceived, "v5.1 fips-04-ikev2-md5"),
        ("\"westnet-eastnet-md5\" #1: ignoring IKE_SA_INIT response containing NO_PROPOSAL_CHOSEN notification (Message ID 0; message payloads N, missing SA,KE,Ni)", .ikeNoProposalReceived, "v5.2+ fips-04-ikev2-md5"),
        // b.4 ESP proposal mismatch
        ("002 \"C\" #2: IKE_AUTH response contained the error notification NO_PROPOSAL_CHOSEN", .childNoProposalReceived, "3.32"),
        ("\"westnet-eastnet-ipv4-psk-ikev2\" #2: IKE_AUTH response rejected Child SA with NO_PROPOSAL_CHOSEN", .childNoProposalReceived, "4.5-5.4 ikev2-leak-01"),
        ("\"westnet-eastnet-ipcomp\" #1: response for Child SA #2 was rejected with NO_PROPOSAL_CHOSEN; initiating delete of Child SA (IKE SA will remain UP)", .childNoProposalReceived, "HEAD compress-04"),
        ("\"westnet-eastnet-ipv4-psk-ikev2\" #2: no local proposal matches remote proposals 1:ESP:ENCR=AES_CBC_128;ENCR=AES_CBC_256;INTEG=HMAC_SHA1_96;ESN=YES;ESN=NO", .childNoProposalLocal, "5.4 responder"),
        // b.6 TS
        ("003 \"westnet-eastnet-mismatch\" #2: IKE_AUTH response rejected Child SA with TS_UNACCEPTABLE", .tsUnacceptableReceived, "v4.15 ikev2-35"),
        ("\"road/0x2\" #3: CREATE_CHILD_SA failed with error notification TS_UNACCEPTABLE", .tsUnacceptableReceived, "HEAD ikev2-rw-multiple-subnets-4"),
        ("\"labeled\" #2: No IKEv2 connection found with compatible Traffic Selectors", .tsNoMatchLocal, "4.x responder"),
        ("\"labeled\"[1] 192.1.2.45 #2: Child SA's Traffic Selector request {TSi=192.1.2.45/32;TSr=192.1.2.23/32} does not match any IKEv2 connection; responding with TS_UNACCEPTABLE", .tsNoMatchLocal, "5.4 responder"),
        // b.8/b.9 PSK
        ("\"westnet-eastnet-ipv4-psk-ppk\" #1: authentication failed: computed hash does not match hash received from peer ID_FQDN '@west'", .pskHashMismatch, "v4.15"),
        ("\"road-eastnet-psk\" #1: received Hash Payload does not match computed value", .ikev1HashMismatch, "HEAD psk-pluto-02"),
        ("\"l2tp-psk\"[1] 1.2.3.4 #1: probable authentication failure (mismatch of preshared secrets?): malformed payload in packet", .ikev1HashMismatch, "hwdsl2#506"),
        ("031 \"westnet-eastnet-ipv4-psk-ikev2\" #1: STATE_V2_PARENT_I2: 60 second timeout exceeded after 7 retransmits.  Possible authentication failure: no acceptable response to our first encrypted message", .authTimeout, "v4.15 ikev2-26"),
        ("\"ikev2-failtest\" #1: IKE SA authentication request rejected by peer: AUTHENTICATION_FAILED", .authFailedReceived, "HEAD linux-audit-02"),
        // b.1/b.2 reachability and timeouts
        ("#23817: ERROR: asynchronous network error report on ens5 (10.0.0.1:500), complainant 10.0.0.2: Connection refused [errno 111, origin ICMP type 3 code 3 (not authenticated)]", .icmpError, "libreswan#1737"),
        ("\"road-eastnet-ikev2\"[1] 192.1.2.254 #3: IKE_SA_INIT_I: 5 second timeout exceeded after 4 retransmits.  No response (or no acceptable response) to our first IKEv2 message", .timeout, "HEAD auto-keep-02"),
        ("packet from 192.1.2.45:500: ignoring IKEv1 packet as global policy is set to silently drop all IKEv1 packets", .ikev1Dropped, "HEAD ikev1-policy-01-drop"),
        // b.10 IDs, b.13 kernel, b.12 liveness
        ("dropping IKE_SA_INIT request from 192.1.2.45:500 received on 192.1.2.23:500, no suitable connection found with IKEv2 policy", .noSuitableConnection, "5.2+"),
        ("\"east\" #2: ERROR: netlink response for Add SA esp.ESPSPIi@192.1.2.45 included errno 22: Invalid argument", .kernelSAInstallFailed, "4.10-5.4 ikev2-algo-esn-09"),
        ("002 \"westnet-eastnet-ikev2a\" #1: liveness action - putting connection into hold", .dpdAction, "v4.15 ikev2-child-ipsec-retransmit"),
        ("\"east/0x2\" #1: ESTABLISHED_IKE_SA: 30 second timeout exceeded after 0 retransmits.  No response (or no acceptable response) to our IKEv2 message", .dpdAction, "HEAD crossing-streams-04"),
        ("\"C\"[1] 192.1.2.45 #1: NSS: ERROR: IPsec certificate E=west-bc-missing-chain-end@x,CN=x invalid: SEC_ERROR_UNKNOWN_ISSUER: Peer's Certificate issuer is not recognized.", .certificateError, "HEAD ikev2-x509-25"),
        // b.0 positive anchors
        ("\"westnet-eastnet-ipv4-psk-ikev2\" #2: initiator established Child SA using #1; IPsec tunnel [192.0.1.0/24===192.0.2.0/24] {ESP/ESN=>0xESPESP <0xESPESP xfrm=AES_GCM_16_256 DPD=passive}", .childEstablished, "HEAD ikev2-05-basic-psk"),
        ("004 \"C\" #2: STATE_V2_IPSEC_I: IPsec SA established tunnel mode {ESP=>0x1 <0x2 xfrm=AES_CBC-HMAC_SHA1 NATOA=none NATD=none DPD=passive}", .childEstablished, "3.32"),
    ]

    @Test("each version's wording maps to the same kind, through both entry points", arguments: 0..<lines.count)
    func drift(_ i: Int) {
        let (line, kind, source) = Self.lines[i]
        var slow = PlutoLogClassifier()
        #expect(slow.classify(Substring(line), file: "t", line: 1)?.kind == kind, "\(source): \(line)")
        var fast = PlutoLogClassifier()
        var copy = line
        let viaBytes = copy.withUTF8 { fast.classify(bytes: $0, file: "t", line: 1) }
        #expect(viaBytes?.kind == kind, "\(source) (byte path): \(line)")
    }
}
