/// Two printouts of one codec in the `/proc/asound/cardN/codec#M` format compared: what a
/// driver printed after it ran (a Linux guest's codec#0) against what it should be (the
/// re-print of the dump the codec was built from).
///
/// Lines are compared node by node (the header up to the first `Node 0x` line, then each
/// node's lines), so a node one side lacks is one difference and not a shift of every line
/// after it. Parameter lines (`CodecDump.isParameterLine`: capabilities, configuration
/// default, connection lists) are aligned in order (a longest common subsequence) and every
/// expected one must be printed, equal, the selection mark `*` of a connection list aside;
/// parameter lines only the printout has (a newer kernel prints lines an older one did not)
/// are listed apart. Every other line is state the driver sets (amp values, pin controls, power,
/// converter settings, EAPD, unsolicited enable) or a note the driver prints about itself
/// (the codec's name, its controls): those may differ, and are counted by field.
public struct CodecDumpComparison: Sendable {
    /// A parameter line that differs: the node (nil for the header), what was expected and
    /// what was printed (nil when one side has no such line).
    public struct Difference: Sendable, Hashable, CustomStringConvertible {
        /// The node, nil for the codec's header lines.
        public var node: UInt8?
        /// The expected line.
        public var expected: String?
        /// The printed line.
        public var actual: String?

        /// In words.
        public var description: String {
            let place = node.map { "node 0x" + String($0, radix: 16).leftPadded(2) } ?? "header"
            return "\(place): expected '\(expected?.trimmed ?? "(none)")', printed '\(actual?.trimmed ?? "(none)")'"
        }
    }

    /// Parameter lines compared.
    public private(set) var parameterLines = 0
    /// Parameter lines that differ, in order.
    public private(set) var differences: [Difference] = []
    /// Parameter lines the guest printed that the expected text has no line for (a newer
    /// kernel prints more than the one that made the dump, such as the function group's
    /// power states): reported, not compared.
    public private(set) var printedOnly: [Difference] = []
    /// Lines outside the parameters that differ, by field (`Amp-Out vals`, `Pin-ctls`,
    /// `Power`, `Connection selection`, `Codec` ...): the exclusions, counted.
    public private(set) var excluded: [String: Int] = [:]

    /// True when every parameter line is equal.
    public var parametersMatch: Bool { differences.isEmpty && parameterLines > 0 }

    /// Compares `actual` with `expected`.
    public init(expected: [String], actual: [String]) {
        let want = Self.sections(expected), got = Self.sections(actual)
        var keys: [UInt8?] = want.map(\.node)
        for s in got where !keys.contains(s.node) { keys.append(s.node) }
        for key in keys {
            let a = want.first { $0.node == key }?.lines ?? []
            let b = got.first { $0.node == key }?.lines ?? []
            compare(node: key, a, b)
        }
    }

    private mutating func compare(node: UInt8?, _ expected: [String], _ actual: [String]) {
        let pa = expected.filter(CodecDump.isParameterLine), pb = actual.filter(CodecDump.isParameterLine)
        parameterLines += pa.count
        let matched = Self.longestCommonSubsequence(pa.map(Self.unmarked), pb.map(Self.unmarked))
        var j = 0
        for (i, a) in pa.enumerated() {
            guard let k = matched[i] else {
                // An expected line with no partner: the printed line in its place, if there is one unmatched.
                let next = matched[(i + 1)...].compactMap { $0 }.first ?? pb.count
                differences.append(Difference(node: node, expected: a, actual: j < next ? pb[j] : nil))
                if j < next { j += 1 }
                continue
            }
            for extra in pb[j..<k] { printedOnly.append(Difference(node: node, expected: nil, actual: extra)) }
            if a != pb[k] { excluded["Connection selection", default: 0] += 1 }
            j = k + 1
        }
        for extra in pb[j...] { printedOnly.append(Difference(node: node, expected: nil, actual: extra)) }
        let sa = expected.filter { !CodecDump.isParameterLine($0) }, sb = actual.filter { !CodecDump.isParameterLine($0) }
        for k in 0..<max(sa.count, sb.count) {
            let a = k < sa.count ? sa[k] : nil, b = k < sb.count ? sb[k] : nil
            guard a != b else { continue }
            excluded[Self.field(a ?? b ?? ""), default: 0] += 1
        }
    }

    /// For each element of `a`, the index of its partner in `b` in a longest common
    /// subsequence of the two, or nil.
    static func longestCommonSubsequence(_ a: [String], _ b: [String]) -> [Int?] {
        let n = a.count, m = b.count
        var table = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var out = [Int?](repeating: nil, count: n)
        var i = 0, j = 0
        while i < n && j < m {
            if a[i] == b[j] { out[i] = j; i += 1; j += 1 } else if table[i + 1][j] >= table[i][j + 1] { i += 1 } else { j += 1 }
        }
        return out
    }

    /// The lines split at `Node 0x` lines: the header (node nil), then each node.
    static func sections(_ lines: [String]) -> [(node: UInt8?, lines: [String])] {
        var out: [(node: UInt8?, lines: [String])] = [(nil, [])]
        for raw in lines {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
            if line.isEmpty { continue }
            if line.hasPrefix("Node 0x"), let id = UInt8(line.dropFirst(7).prefix(2), radix: 16) {
                out.append((id, [line]))
            } else {
                out[out.count - 1].lines.append(line)
            }
        }
        return out
    }

    static func unmarked(_ line: String) -> String {
        var t = line.replacing("*", with: "")
        while t.last == " " { t.removeLast() }
        return t
    }

    /// A state line's field: its text up to the first `:`, `[` or digit group (`EAPD 0x2` is `EAPD`).
    static func field(_ line: String) -> String {
        let t = line.trimmed
        let end = t.firstIndex { $0 == ":" || $0 == "[" } ?? t.endIndex
        var name = String(t[..<end])
        if let space = name.firstIndex(of: " "), name[space...].contains("0x") { name = String(name[..<space]) }
        while name.last == " " { name.removeLast() }
        return name.isEmpty ? "(other)" : name
    }

    /// The exclusions in words: `Amp-Out vals 12, Pin-ctls 5`, by field name.
    public var excludedSummary: String {
        excluded.isEmpty ? "none" : excluded.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }
}
