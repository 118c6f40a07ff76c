#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The per-unit costs (seconds per byte, per call) of a figure and its baseline, measured in
/// alternating rounds so that a passing load on the machine slows both sides alike. Every
/// benchmark reports the fastest round of each side (the one least disturbed) and their ratio,
/// with the median of the rounds' own ratios beside it.
struct RoundCosts {
    /// Each round's cost on the side the ratio divides (the numerator).
    private(set) var numerators: [Double] = []
    /// Each round's cost on the other side.
    private(set) var denominators: [Double] = []

    /// Records one round: the numerator side's and the denominator side's cost per unit.
    mutating func add(_ numerator: Double, over denominator: Double) {
        numerators.append(numerator)
        denominators.append(denominator)
    }

    /// Rounds recorded.
    var count: Int { numerators.count }
    /// The cheapest round of each side (0 with no round).
    var fastest: (numerator: Double, denominator: Double) { (numerators.min() ?? 0, denominators.min() ?? 0) }
    /// Fastest numerator over fastest denominator (0 with no round).
    var ratio: Double { count == 0 ? 0 : fastest.numerator / fastest.denominator }
    /// The median of the rounds' own ratios (0 with no round).
    var medianRatio: Double {
        let ratios = zip(numerators, denominators).map { $0 / $1 }.sorted()
        return ratios.isEmpty ? 0 : ratios[ratios.count / 2]
    }
}

/// A memcpy of a given number of bytes from a set of source buffers, round robin in
/// pieces of each source's size, into a destination with the same total footprint.
struct MemcpyBaseline {
    let sources: [(pointer: UnsafeMutableRawPointer, size: Int)]
    let offsets: [Int]
    let footprint: Int

    init(sources: [(UnsafeMutableRawPointer, Int)]) {
        self.sources = sources.map { (pointer: $0.0, size: $0.1) }
        var at = 0, offsets: [Int] = []
        for s in sources { offsets.append(at); at += s.1 }
        self.offsets = offsets
        footprint = at
    }

    /// Wall seconds to copy `bytes` bytes.
    func measure(bytes: UInt64, clock: ContinuousClock) -> Double {
        guard footprint > 0 else { return 0 }
        let destination = UnsafeMutableRawPointer.allocate(byteCount: footprint, alignment: 4096)
        defer { destination.deallocate() }
        destination.initializeMemory(as: UInt8.self, repeating: 0, count: footprint)
        var sink: UInt8 = 0
        let time = clock.measure {
            var left = bytes
            var i = 0
            while left > 0 {
                let n = Int(min(UInt64(sources[i].size), left))
                memcpy(destination + offsets[i], sources[i].pointer, n)
                i = (i + 1) % sources.count
                left -= UInt64(n)
            }
            sink = destination.load(fromByteOffset: Int(bytes % UInt64(footprint)), as: UInt8.self)
        }
        _ = sink
        return time.seconds
    }
}
