import DoctorModel
import Foundation
import Testing

@testable import DoctorParse

@Suite("ip xfrm, xfrm_stat, NAT rules, ip, ping")
struct KernelParsingTests {
    @Test("ip -s xfrm state from a live tunnel: SPI, reqid, AEAD ICV bits, traffic; keys masked")
    func liveState() throws {
        let (states, diags) = XfrmStateParser.parse(Repo.doc(Repo.example("healthy", "west", "ip-xfrm-state.txt")))
        #expect(diags.isEmpty)
        #expect(states.count == 2)
        let out = try #require(states.first { $0.src == "192.0.2.1" })
        #expect(out.reqid > 0)
        #expect(out.algorithms.first?.name == "rfc4106(gcm(aes))")
        #expect(out.algorithms.first?.bits == 128)
        #expect((out.currentPackets ?? 0) > 0)
        for line in states.flatMap(\.lines) { #expect(line.text.range(of: "0x[0-9a-f]{16,}", options: .regularExpression) == nil) }
    }

    @Test("iproute2 quirks: oneline output, ESN, marks, NAT-T encap, larval SAs")
    func kernelSamples() throws {
        let (states, _) = XfrmStateParser.parse(Repo.doc(Repo.kernelSample("10-state.txt")))
        let (oneline, _) = XfrmStateParser.parse(Repo.doc(Repo.kernelSample("12-state-oneline.txt")))
        #expect(states.count == 8)
        #expect(oneline.map(\.spi) == states.map(\.spi))
        #expect(states.contains { $0.encapType == "espinudp" })
        let cbc = try #require(states.first { $0.spi == 0xc100_0002 })
        let o = try #require(cbc.algorithms.first { $0.kind == "auth-trunc" })
        #expect(o.bits == 128)
    }

    @Test("ip xfrm policy: directions, templates with reqid, socket and block policies")
    func policies() throws {
        let (pols, diags) = XfrmPolicyParser.parse(Repo.doc(Repo.kernelSample("20-policy.txt")))
        #expect(diags.isEmpty)
        #expect(pols.contains { $0.direction == .socketIn })
        #expect(pols.contains { $0.action == "block" })
        let fwd = try #require(pols.first { $0.direction == .fwd })
        #expect(fwd.templates.first?.reqid == 1)
        let (lab, _) = XfrmPolicyParser.parse(Repo.doc(Repo.example("healthy", "west", "ip-xfrm-policy.txt")))
        let out = try #require(lab.first { $0.direction == .out && $0.src == IPPrefix("10.1.0.0/24") })
        #expect(out.templates.first?.dst == "192.0.2.2")
    }

    @Test("xfrm_stat: samples with timestamps, counters by name, deltas visible")
    func xfrmStat() throws {
        let (samples, diags) = XfrmStatParser.parse(Repo.doc(Repo.example("multi-subnet-tmpl-mismatch", "west", "xfrm_stat.txt")))
        #expect(diags.isEmpty)
        #expect(samples.count == 2)
        #expect(samples[0].time?.hasPrefix("20") == true)
        let first = try #require(samples[0].counters["XfrmInTmplMismatch"])
        let last = try #require(samples[1].counters["XfrmInTmplMismatch"])
        #expect(last > first)
        let (kernel, _) = XfrmStatParser.parse(Repo.doc(Repo.kernelSample("62-live-xfrm_stat-left.txt")))
        #expect(kernel.first?.counters.count == 28)
    }

    @Test("a bad xfrm_stat line is a diagnostic with its line number; the rest is read")
    func badLine() {
        let doc = RawDocument(name: "pasted", content: .text("XfrmInError 0\ngarbage here\nXfrmInNoStates 7\n"), kind: .xfrmStat)
        let (samples, diags) = XfrmStatParser.parse(doc)
        #expect(samples.first?.counters["XfrmInNoStates"] == 7)
        #expect(diags.map(\.line) == [2])
    }

    @Test("iptables-save nat POSTROUTING and nft rulesets become NAT rules")
    func natRules() throws {
        let (rules, _) = IptablesSaveParser.parse(Repo.doc(Repo.example("nat-before-ipsec", "west", "iptables-save.txt")))
        let masq = try #require(rules.first)
        #expect(masq.action == .masquerade)
        #expect(masq.outInterface == "vw")
        let text = """
            table ip nat {
            	chain postrouting {
            		type nat hook postrouting priority srcnat; policy accept;
            		ip saddr 10.1.0.0/24 ip daddr 10.2.0.0/24 return
            		oifname "vw" masquerade
            	}
            }
            """
        let (nft, _) = NftRulesetParser.parse(RawDocument(name: "nft", content: .text(text), kind: .nftRuleset))
        #expect(nft.map(\.action) == [.return, .masquerade])
        #expect(nft.first?.saddr == IPPrefix("10.1.0.0/24"))
        #expect(nft.first?.source.line == 4)
    }

    @Test("nft text: sets inside a table do not end it; NAT and input-filter chains come from one reader")
    func nftBlocks() throws {
        let text = """
            table inet fw {
            	set peers {
            		type ipv4_addr
            		elements = { 192.0.2.2 }
            	}
            	chain input {
            		type filter hook input priority filter; policy drop;
            		ct state established accept
            	}
            	chain postrouting {
            		type nat hook postrouting priority srcnat; policy accept;
            		oifname "vw" masquerade
            	}
            }
            """
        let doc = RawDocument(name: "nft", content: .text(text), kind: .nftRuleset)
        let (nat, _) = NftRulesetParser.parse(doc)
        #expect(nat.map(\.action) == [.masquerade])
        #expect(nat.first?.family == "inet" && nat.first?.table == "fw" && nat.first?.source.line == 12)
        let (filter, policies) = FilterRuleParser.parseNft(doc)
        #expect(policies.map(\.action) == [.drop])
        #expect(policies.first?.chain == "inet fw input")
        #expect(filter.count == 1 && filter.first?.conditional == true)
    }

    @Test("nft -j list ruleset (real capture) gives the same NAT rule as the text form")
    func nftJSON() throws {
        let (json, diags) = NftJSONParser.parse(Repo.doc(Repo.example("nat-before-ipsec-nft", "west", "nft-ruleset.json")))
        #expect(diags.isEmpty)
        let (text, _) = NftRulesetParser.parse(Repo.doc(Repo.example("nat-before-ipsec-nft", "west", "nft-ruleset.txt")))
        let j = try #require(json.first)
        let t = try #require(text.first)
        #expect(j.action == .masquerade && t.action == .masquerade)
        #expect(j.outInterface == "vw" && t.outInterface == "vw")
        #expect(j.family == t.family && j.table == t.table && j.chain == t.chain)
        #expect(j.source.text == "(nft JSON: rule handle 2 in chain ip/nat/postrouting: oifname \"vw\" masquerade)")
        let (bad, badDiags) = NftJSONParser.parse(RawDocument(name: "x.json", content: .text("{not json"), kind: .nftJSON))
        #expect(bad.isEmpty && badDiags.first?.line == 1)
    }

    @Test("ip addr interfaces with MTU, ip route, DF pings")
    func ipAndPing() throws {
        let (ifs, _) = IpAddrParser.parse(Repo.doc(Repo.example("healthy", "west", "ip-addr.txt")))
        let vw = try #require(ifs.first { $0.name == "vw" })
        #expect(vw.mtu == 1500)
        #expect(vw.addresses.contains(IPPrefix("192.0.2.1/24")!))
        let (routes, _) = IpRouteParser.parse(Repo.doc(Repo.example("healthy", "west", "ip-route.txt")))
        #expect(routes.contains { $0.destination == "10.2.0.0/16" && $0.via == "192.0.2.2" })
        #expect(routes.count == 2)
        let (nat, natWarnings) = IpRouteParser.parse(Repo.doc(Repo.example("natt-healthy", "west", "ip-route.txt")))
        #expect(nat.contains { $0.destination == "default" } && natWarnings.isEmpty)
        // A line that is no route (a secrets line a paste put here) is a warning that quotes none of it.
        let (junk, warnings) = IpRouteParser.parse(RawDocument(name: "ip-route.txt", content: .text(
            "@east @west-gw P S:K \"sekrit\"\n"), kind: .ipRoute))
        #expect(junk.isEmpty)
        #expect(warnings.map(\.formatted) == [#"ip-route.txt:1: warning: not an ip route line: '@east @west-gw P S:K "<quoted>"'"#])
        let (pings, _) = PingParser.parse(Repo.doc(Repo.example("mtu-blackhole", "west", "ping.txt")))
        #expect(pings.allSatisfy { $0.dontFragment })
        #expect(pings.contains { $0.payloadSize == 1300 && $0.received > 0 })
        #expect(pings.contains { $0.payloadSize == 1350 && $0.received == 0 })
        #expect(pings.first?.destination == "10.2.0.1")
    }

    @Test("a pasted terminal session (CRLF, prompts, whack prefixes) is split and recognised by content")
    func pastedSession() throws {
        var text = ""
        for (cmd, file) in [("ipsec trafficstatus", "ipsec-trafficstatus.txt"), ("ip -s xfrm state", "ip-xfrm-state.txt"),
                            ("cat /proc/net/xfrm_stat", "xfrm_stat.txt"), ("ip -s xfrm policy", "ip-xfrm-policy.txt")] {
            text += "root@west:~# \(cmd)\n" + (try String(contentsOfFile: Repo.example("healthy", "west", file), encoding: .utf8))
        }
        text = text.replacingOccurrences(of: "\n", with: "\r\n")
        let doc = RawDocument(name: "pasted.txt", content: .text(text), kind: nil)
        let (docs, diags) = InputRecognizer.resolve(doc)
        #expect(diags.isEmpty)
        #expect(docs.map(\.kind) == [.trafficStatus, .xfrmState, .xfrmStat, .xfrmPolicy])
        #expect(docs[0].firstLine == 2)
        let (ts, _) = TrafficStatusParser.parse(docs[0])
        #expect(ts.first?.connection == "westnet-eastnet")
        #expect(ts.first?.source.line == 2)
        let (states, _) = XfrmStateParser.parse(docs[1])
        #expect(states.count == 2)
    }

    @Test("prompts of other shells and distributions; commands that show files", arguments: [
        ("gw:~ # cat /etc/ipsec.secrets", "cat /etc/ipsec.secrets"), ("gw# less /etc/ipsec.secrets", "less /etc/ipsec.secrets"),
        ("[root@gw ~]# ipsec trafficstatus", "ipsec trafficstatus"), ("admin@gw:~$ sudo head /etc/ipsec.conf", "head /etc/ipsec.conf"),
        ("gw> vi /etc/ipsec.secrets", "vi /etc/ipsec.secrets"), ("# ip -s xfrm state", "ip -s xfrm state"),
    ])
    func prompts(_ line: String, _ command: String) {
        #expect(InputRecognizer.promptCommand(line) == command)
    }

    @Test("not prompts: a config comment, a log line, a quoted '#'")
    func notPrompts() {
        for line in ["    # leftsubnet=10.1.0.0/24", "Dec  2 03:05:55 gw pluto[1]: \"x\" #1: cat is not a command",
                     "conn x # cat /etc/passwd", "\"a b\"# cat x"] {
            #expect(InputRecognizer.promptCommand(line) == nil, "\(line)")
        }
    }

    /// The mtu-blackhole lab capture's ping.txt pasted as a session with `root@gw:~#` prompts: the DF flag is
    /// on the prompt line, and the big pings must still count as DF probes.
    @Test("a pasted ping keeps its -M do from the prompt line")
    func pastedPing() throws {
        let real = try String(contentsOfFile: Repo.example("mtu-blackhole", "west", "ping.txt"), encoding: .utf8)
        let text = "root@west:~# ip -s xfrm state\n" + (try String(contentsOfFile: Repo.example("mtu-blackhole", "west", "ip-xfrm-state.txt"), encoding: .utf8))
            + real.replacingOccurrences(of: "$ ping", with: "root@west:~# ping")
        let (docs, _) = InputRecognizer.resolve(RawDocument(name: "pasted.txt", content: .text(text), kind: nil))
        let pingDocs = docs.filter { $0.kind == .ping }
        #expect(!pingDocs.isEmpty)
        let pings = pingDocs.flatMap { PingParser.parse($0).0 }
        #expect(pings.contains { $0.payloadSize == 1350 && $0.received == 0 && $0.dontFragment })
        #expect(pings.allSatisfy { $0.dontFragment })
    }

    @Test("unnamed files are recognised by content")
    func sniffing() {
        let cases: [(String, InputKind)] = [
            (Repo.example("healthy", "west", "ip-xfrm-state.txt"), .xfrmState),
            (Repo.example("healthy", "west", "ip-xfrm-policy.txt"), .xfrmPolicy),
            (Repo.example("healthy", "west", "xfrm_stat.txt"), .xfrmStat),
            (Repo.example("healthy", "west", "ipsec.conf"), .ipsecConf),
            (Repo.example("healthy", "west", "pluto.log"), .plutoLog),
            (Repo.example("nat-before-ipsec", "west", "iptables-save.txt"), .iptablesSave),
            (Repo.example("healthy", "west", "ipsec-trafficstatus.txt"), .trafficStatus),
            (Repo.example("healthy", "west", "ipsec-status.txt"), .status),
            (Repo.example("mtu-blackhole", "west", "ping.txt"), .ping),
            (Repo.example("healthy", "west", "ip-route.txt"), .ipRoute),
            (Repo.example("healthy", "west", "ip-addr.txt"), .ipAddr),
        ]
        for (path, kind) in cases {
            let (docs, _) = InputRecognizer.resolve(RawDocument(name: path, content: .file(path: path), kind: nil))
            #expect(docs.first?.kind == kind, "\(path)")
        }
    }

    @Test("IPv6 prefixes: parse, contain, print compressed (RFC 5952)")
    func ipv6() throws {
        let p = try #require(IPPrefix("fd01::1/64"))
        #expect(p.network.description == "fd01::/64")
        #expect(try #require(IPPrefix("2001:db8:0:0:1:0:0:1")).description == "2001:db8::1:0:0:1/128")
        #expect(try #require(IPPrefix("::")).description == "::/128")
        #expect(p.contains(try #require(IPPrefix("fd01::abcd"))))
        #expect(!p.contains(try #require(IPPrefix("fd02::1"))))
    }

    @Test("redaction masks PSKs and key hex, keeps SPIs")
    func redaction() {
        #expect(Redactor.redact("@a @b : PSK \"s3cret\"") == "@a @b : PSK \"<redacted>\"")
        #expect(Redactor.redact("\taead rfc4106(gcm(aes)) 0x0203040506070809101112131415161718 (160 bits) 128") == "\taead rfc4106(gcm(aes)) 0x<redacted> (160 bits) 128")
        #expect(Redactor.redact("\tproto esp spi 0x00002001(8193) reqid 1") == "\tproto esp spi 0x00002001(8193) reqid 1")
    }
}

@Suite("Truncated kernel captures")
struct TruncatedKernelTests {
    @Test("a policy cut off after its template's `proto` word: no crash, no template")
    func policyCutAtProto() {
        let lines: [(Int, String)] = [
            (1, "src 10.1.0.0/24 dst 10.2.0.0/24 uid 0"),
            (2, "\tdir out action allow index 9 priority 1757393 ptype main share any flag  (0x00000000)"),
            (3, "\ttmpl src 192.0.2.1 dst 192.0.2.2"),
            (4, "\t\tproto"),
        ]
        let (policies, _) = XfrmPolicyParser.parse(lines: lines, file: "ip-xfrm-policy.txt")
        #expect(policies.count == 1)
        #expect(policies.first?.templates.isEmpty == true)
    }
}
