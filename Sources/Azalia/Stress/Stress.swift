import HDAudio

/// Seeded random walks that try the project as an attacker would, each checking after every
/// step what must hold. The same kind, seed and step count always repeat the same walk, so a
/// failure names the seed and step that reproduce it (`azalia stress KIND --seed S --steps N`).
public enum StressKind: String, CaseIterable, Sendable {
    /// Model-based walk over the DDI: every routine of every interface version, with good,
    /// stale, foreign and forged handles, size and count edges, every IRQL, faults and page
    /// limits, callbacks that call back in. After each step: only documented statuses, a
    /// refused call changed nothing, pages, tags and bandwidth accounted, invariants hold.
    case ddi
    /// A hostile guest on the bare controller: random register writes of every width at
    /// every offset, hostile BDLs, huge time advances, faults switched at any time. After
    /// each step: no trap, every advance exact, guest memory unchanged in size, invariants hold.
    case guest
    /// Mutated valid WAV files: each either parses (and then writes back and re-parses to the
    /// same file) or is refused with a message free of raw control bytes.
    case wav
}

/// A step that broke a rule: what, where, and how to repeat it.
public struct StressFailure: Error, CustomStringConvertible, Sendable {
    /// The walk.
    public var kind: StressKind
    /// Its seed.
    public var seed: UInt64
    /// The step (0-based) that failed.
    public var step: Int
    /// What was wrong.
    public var message: String
    /// Threads the walk ran on (1: the walk repeats exactly; more: they interleave differently).
    public var threads: Int

    /// A failure of walk `kind` from `seed` at `step`.
    public init(kind: StressKind, seed: UInt64, step: Int, message: String, threads: Int = 1) {
        self.kind = kind
        self.seed = seed
        self.step = step
        self.message = message
        self.threads = threads
    }

    /// One line: the rule broken, and the command that repeats the walk up to the failure.
    public var description: String {
        let repeatCommand = "azalia stress \(kind.rawValue) --seed \(seed) --steps \(step + 1)"
        guard threads > 1 else { return "\(kind.rawValue) walk, seed \(seed), step \(step): \(message) (repeat: \(repeatCommand))" }
        return "\(kind.rawValue) walk, seed \(seed), \(threads) threads, step \(step): \(message) "
            + "(try again: \(repeatCommand) --threads \(threads); threads interleave differently on each run)"
    }
}

/// What a walk did.
public struct StressReport: Sendable, Encodable {
    /// The walk.
    public var kind: String
    /// Its seed.
    public var seed: UInt64
    /// Steps taken.
    public var steps: Int
    /// How many times each kind of step ran or each outcome was seen.
    public var counts: [String: Int]
}

/// Runs the walks.
public enum Stress {
    /// Runs `steps` steps of walk `kind` from `seed`; `progress` is told the steps done now
    /// and then. The DDI walk runs on `threads` threads at once (each with its own clients on
    /// one bus); the other walks on one. Throws the first step that broke a rule.
    public static func run(_ kind: StressKind, seed: UInt64, steps: Int, threads: Int = 1,
                           progress: ((Int) -> Void)? = nil) throws(StressFailure) -> StressReport {
        var counts: [String: Int] = [:]
        do throws(StressViolation) {
            switch kind {
            case .ddi where threads > 1:
                try DDIWalk.runThreaded(seed: seed, steps: steps, threads: threads, counts: &counts, progress: progress)
            case .ddi:
                var walk = DDIWalk(seed: seed)
                try walk.run(steps: steps, counts: &counts, progress: progress)
            case .guest:
                var walk = GuestWalk(seed: seed)
                try walk.run(steps: steps, counts: &counts, progress: progress)
            case .wav:
                var walk = WAVMutationWalk(seed: seed)
                try walk.run(steps: steps, counts: &counts, progress: progress)
            }
        } catch {
            throw StressFailure(kind: kind, seed: seed, step: error.step, message: error.message, threads: kind == .ddi ? max(threads, 1) : 1)
        }
        return StressReport(kind: kind.rawValue, seed: seed, steps: steps, counts: counts)
    }
}

/// A broken rule inside a walk.
struct StressViolation: Error {
    var step: Int
    var message: String
}

/// Where a walk's choices come from: a seeded generator (`azalia stress`), or the bytes of a
/// fuzzer's input (libFuzzer then steers the same walk: each choice reads only the bytes it needs).
struct StressRandom {
    private var seeded: SeededRandom
    private let input: [UInt8]?
    private var position = 0

    /// Choices from a seeded generator.
    init(seed: UInt64) { seeded = SeededRandom(seed: seed); input = nil }
    /// Choices read from `input`; zeros once it is used up.
    init(input: [UInt8]) { seeded = SeededRandom(seed: 0); self.input = input }

    /// True once a fuzzer's input is used up (never for a seeded walk).
    var exhausted: Bool { input.map { position >= $0.count } ?? false }

    /// The next 64 random bits.
    mutating func next() -> UInt64 { take(8) }

    /// `bytes` bytes of the input, little-endian (or the generator's next 64 bits).
    private mutating func take(_ bytes: Int) -> UInt64 {
        guard let input else { return seeded.next() }
        var value: UInt64 = 0
        for k in 0..<bytes where position + k < input.count { value |= UInt64(input[position + k]) << (8 * UInt64(k)) }
        position = min(position + bytes, input.count)
        return value
    }

    /// A value below `bound` (> 0).
    mutating func below(_ bound: Int) -> Int {
        let bytes = input == nil ? 8 : bound <= 0x100 ? 1 : bound <= 0x1_0000 ? 2 : bound <= 0x1_0000_0000 ? 4 : 8
        return Int(take(bytes) % UInt64(bound))
    }
    /// True with probability 1 / `n`.
    mutating func oneIn(_ n: Int) -> Bool { below(n) == 0 }
    /// One of `items`.
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    /// A number that is often an edge: 0, 1, a power of two or one off it, the type's ends.
    mutating func edgy(max: UInt64) -> UInt64 {
        switch below(6) {
        case 0: return pick([0, 1, 2, max, max &- 1, max / 2])
        case 1:
            let bit = UInt64(below(64))
            return min(max, (1 << bit) &+ UInt64(below(3)) &- 1)
        default: return max == UInt64.max ? next() : next() % (max &+ 1)
        }
    }
}
