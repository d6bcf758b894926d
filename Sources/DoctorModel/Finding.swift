/// How bad a finding is. `error` means the tunnel does not (fully) work.
public enum Severity: String, Sendable, Codable, Comparable, CaseIterable {
    case error, warning, info

    private var order: Int {
        switch self {
        case .error: 0
        case .warning: 1
        case .info: 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.order < rhs.order }
}

/// Which gateway a remedy step applies to.
public enum End: String, Sendable, Codable {
    /// The end whose capture was diagnosed (the PATH arguments or this machine).
    case local
    /// The other end (`--peer`), or the peer as named in the configuration.
    case peer
    /// Both ends must make the same change.
    case both
}

/// One concrete thing to do: change config lines, run a command, or check something.
public struct RemedyStep: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable {
        case config, command, check
    }

    public var kind: Kind
    public var end: End
    /// What the step achieves, in one sentence.
    public var summary: String
    /// For `config`: the file and connection the lines belong to.
    public var file: String?
    public var connection: String?
    /// For `config`: lines to delete and lines to write (ready to paste).
    public var remove: [String]
    public var add: [String]
    /// For `command` and `check`: the exact command.
    public var command: String?
    /// True when the step is another way to the same end as the step before it: do one or the other, not
    /// both (applying both halves of "either this end's subnet or the peer's" swaps the mismatch). Nil otherwise.
    public var alternative: Bool?

    public init(
        kind: Kind, end: End, summary: String, file: String? = nil, connection: String? = nil,
        remove: [String] = [], add: [String] = [], command: String? = nil
    ) {
        self.kind = kind
        self.end = end
        self.summary = summary
        self.file = file
        self.connection = connection
        self.remove = remove
        self.add = add
        self.command = command
    }

    public static func config(
        _ end: End, _ summary: String, file: String?, connection: String?, remove: [String], add: [String]
    ) -> RemedyStep {
        RemedyStep(kind: .config, end: end, summary: summary, file: file, connection: connection, remove: remove, add: add)
    }

    public static func command(_ end: End, _ summary: String, _ command: String) -> RemedyStep {
        RemedyStep(kind: .command, end: end, summary: summary, command: command)
    }

    public static func check(_ end: End, _ summary: String, _ command: String? = nil) -> RemedyStep {
        RemedyStep(kind: .check, end: end, summary: summary, command: command)
    }

    /// The same step, as another way to what the step before it does.
    public var instead: RemedyStep {
        var s = self
        s.alternative = true
        return s
    }
}

/// What to do about a finding.
public struct Remedy: Sendable, Hashable, Codable {
    public var summary: String
    public var steps: [RemedyStep]

    public init(summary: String, steps: [RemedyStep] = []) {
        self.summary = summary
        // A config step that removes and writes the same lines changes nothing: that end is already right.
        self.steps = steps.filter { !($0.kind == .config && !$0.remove.isEmpty && $0.remove == $0.add) }
    }
}

/// One of several codes the evidence fits, and what tells it apart.
public struct Candidate: Sendable, Hashable, Codable {
    public var code: FindingCode
    public var cause: String?
    /// The evidence that decides for this candidate (`the peer's log says "computed hash does not match"`).
    public var decidedBy: String

    public init(code: FindingCode, cause: String? = nil, decidedBy: String) {
        self.code = code
        self.cause = cause
        self.decidedBy = decidedBy
    }
}

/// A diagnosed problem: the stable `code`, the reasoning, the evidence and the fix.
public struct Finding: Sendable, Hashable, Codable {
    /// Stable identifier (`psk-mismatch`). Part of the public contract; wording is not.
    public var code: FindingCode
    public var severity: Severity
    /// The Libreswan connection name, or nil for host-wide findings (xfrm_stat).
    public var connection: String?
    public var title: String
    public var explanation: String
    public var evidence: [SourceLine]
    public var remedy: Remedy
    /// Its rung on the root-cause ladder: earlier in a tunnel's life explains more
    /// (reachability < IKE < auth < Child SA < kernel < data path).
    public var stage: Stage
    /// A symptom follows from some other cause; the engine attaches it to the root cause.
    public var isSymptom: Bool
    /// Findings attached to this one because they follow from it.
    public var symptoms: [Finding]
    /// `peer` when the problem is on the other end (found in `--peer`'s capture); nil for this end.
    public var side: String?
    /// The specific cause within the code, machine-readable (`certificate-expired`, `id-not-in-san`); nil
    /// when the code says it all. Codes stay few and stable; causes may grow.
    public var cause: String?
    /// When this end's evidence fits several codes: each one with the check that decides it. The finding's
    /// own code is the most likely; nil when the evidence decides.
    public var candidates: [Candidate]?

    public init(
        code: FindingCode, severity: Severity, connection: String?, title: String, explanation: String,
        evidence: [SourceLine], remedy: Remedy, stage: Stage, isSymptom: Bool = false, symptoms: [Finding] = [],
        cause: String? = nil, candidates: [Candidate]? = nil
    ) {
        self.cause = cause
        self.candidates = candidates
        self.code = code
        self.severity = severity
        self.connection = connection
        self.title = title
        self.explanation = explanation
        self.evidence = evidence
        self.remedy = remedy
        self.stage = stage
        self.isSymptom = isSymptom
        self.symptoms = symptoms
    }
}

extension Finding {
    enum CodingKeys: String, CodingKey {
        case code, severity, connection, title, explanation, evidence, remedy, stage, rank, isSymptom, symptoms, side, cause, candidates
    }

    /// The JSON keeps `rank` (the stage's position on the ladder, 0 first) beside `stage` for consumers that sort.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(code, forKey: .code)
        try c.encode(severity, forKey: .severity)
        try c.encodeIfPresent(connection, forKey: .connection)
        try c.encode(title, forKey: .title)
        try c.encode(explanation, forKey: .explanation)
        try c.encode(evidence, forKey: .evidence)
        try c.encode(remedy, forKey: .remedy)
        try c.encode(stage, forKey: .stage)
        try c.encode(stage.position, forKey: .rank)
        try c.encode(isSymptom, forKey: .isSymptom)
        try c.encode(symptoms, forKey: .symptoms)
        try c.encodeIfPresent(side, forKey: .side)
        try c.encodeIfPresent(cause, forKey: .cause)
        try c.encodeIfPresent(candidates, forKey: .candidates)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            code: try c.decode(FindingCode.self, forKey: .code), severity: try c.decode(Severity.self, forKey: .severity),
            connection: try c.decodeIfPresent(String.self, forKey: .connection), title: try c.decode(String.self, forKey: .title),
            explanation: try c.decode(String.self, forKey: .explanation), evidence: try c.decode([SourceLine].self, forKey: .evidence),
            remedy: try c.decode(Remedy.self, forKey: .remedy), stage: try c.decode(Stage.self, forKey: .stage),
            isSymptom: try c.decode(Bool.self, forKey: .isSymptom), symptoms: try c.decode([Finding].self, forKey: .symptoms),
            cause: try c.decodeIfPresent(String.self, forKey: .cause), candidates: try c.decodeIfPresent([Candidate].self, forKey: .candidates))
        side = try c.decodeIfPresent(String.self, forKey: .side)
    }
}
