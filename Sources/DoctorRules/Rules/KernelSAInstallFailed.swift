import DoctorModel

/// IKE negotiated the Child SA, but the kernel refused to install it.
struct KernelSAInstallFailed: Rule {
    static let code: FindingCode = .kernelSAInstallFailed
    static let stage: Stage = .kernelInstall
    static let needs: [InputNeed] = [.ikeStory]
    static let summary = "The daemon negotiated the Child SA but the kernel refused it (`netlink response for Add SA ... errno N`)."
    static let explains: Set<FindingCode> = [.tsMismatch, .missingSA, .tunnelDown]
    static let examples: [RuleExample] = [
        .triggering("host-kernel-no-esp", "east", cites: "netlink response for Add SA"),
        .triggering("host-kernel-no-esp", withPeer: true, cites: "errno 38"),
        .nonTriggering("ikev2-ts-mismatch", withPeer: true),
        .nonTriggering("healthy", withPeer: true),
    ]

    static let errnoMeaning: [String: String] = [
        "38": "Function not implemented: the kernel has no ESP support loaded (esp4/esp6 modules, CONFIG_INET_ESP)",
        "22": "Invalid argument: the kernel rejects a parameter of the SA (algorithm, key length, replay window, ESN)",
        "2": "No such file or directory: the algorithm is not available in the kernel crypto API",
        "17": "File exists: an SA or policy with the same identity is already installed (another IKE daemon or a stale SA)",
        "1": "Operation not permitted: pluto lacks CAP_NET_ADMIN",
        "12": "Out of memory",
        "93": "Protocol not supported: the xfrm/ESP module for this family is missing",
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            let local = ctx.localEvents(.kernelSAInstallFailed, name)
            let peer = ctx.peerEvents(.kernelSAInstallFailed, name)
            guard let first = (local + peer).first else { return nil }
            let where_ = local.isEmpty ? ctx.peerLabel : ctx.localLabel
            let end: End = local.isEmpty ? .peer : .local
            let errno = first.details["errno"] ?? "?"
            let meaning = Self.errnoMeaning[errno] ?? "errno \(errno)"
            var steps: [RemedyStep] = []
            if errno == "38" || errno == "93" {
                steps.append(.command(end, "Load the kernel's ESP and xfrm modules on \(where_)", "modprobe -a xfrm_user esp4 esp6 xfrm4_tunnel xfrm6_tunnel"))
                steps.append(.check(end, "Check the kernel has ESP (CONFIG_INET_ESP)", "grep -E 'CONFIG_INET6?_ESP=' /boot/config-$(uname -r)"))
            } else if errno == "22" || errno == "2" {
                steps.append(.check(end, "List the algorithms the kernel offers and pick esp= from them", "ipsec status | grep 'algorithm ESP'"))
            } else if errno == "17" {
                steps.append(.check(end, "Look for another IKE daemon or stale SAs", "ps -e | grep -E 'charon|pluto|racoon'; ip xfrm state"))
            }
            steps.append(ctx.cli.restart(name, end: end))
            let evidence = DiagnosisContext.sample(local) + DiagnosisContext.sample(peer) + DiagnosisContext.sample(ctx.localEvents(.tsUnacceptableReceived, name), 1)
            return Finding(
                code: Self.code, severity: .error, connection: name,
                title: "The kernel on \(where_) refused the negotiated SA (errno \(errno))",
                explanation: """
                    IKE completed, but installing the Child SA into the kernel on \(where_) failed: \(meaning). \
                    Without the SA no traffic is encrypted. A responder in this situation answers the initiator \
                    with TS_UNACCEPTABLE, which looks like a subnet mismatch from the other end.
                    """,
                evidence: evidence,
                remedy: Remedy(summary: "Fix the kernel side on \(where_) (\(meaning.split(separator: ":").first ?? "")), then retry.", steps: steps),
                stage: Self.stage)
        }
    }
}
