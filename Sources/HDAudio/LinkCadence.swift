/// Link timing constants (reference section 3).
public enum LinkTiming {
    /// BCLK, the bit clock, in Hz.
    public static let bitClockHz: UInt64 = 24_000_000
    /// BCLK cycles in one link frame.
    public static let bitClocksPerFrame: UInt64 = 500
    /// Link frames per second (48 kHz).
    public static let framesPerSecond: UInt64 = 48_000
    /// Bits per frame on one SDO line (double-pumped).
    public static let sdoBitsPerFrame = 1000
    /// Bits of the command at the start of each SDO frame.
    public static let sdoCommandBits = 40
    /// Bits per frame on one SDI line.
    public static let sdiBitsPerFrame = 500
    /// Bits of the response at the start of each SDI frame.
    public static let sdiResponseBits = 36
    /// Bits of an inbound stream packet's header (4-bit tag, 6-bit length).
    public static let inboundHeaderBits = 10
    /// Frames codecs need after the link leaves reset before they answer (521 us).
    public static let codecWakeFrames = 25

    /// Link frames in `microseconds` of time, rounded up (a frame is 20.833 us).
    public static func frames(microseconds: UInt64) -> UInt64 {
        (microseconds * framesPerSecond + 999_999) / 1_000_000
    }
    /// Microseconds of `frames` link frames, rounded down.
    public static func microseconds(frames: UInt64) -> UInt64 {
        frames * 1_000_000 / framesPerSecond
    }
}

/// How many sample blocks a stream carries in each link frame.
///
/// With the base cadence P(k) = base blocks in frames 0..<k (k for 48 kHz; 147 in every
/// 160 frames for 44.1 kHz, in runs of 12-11-11-12-11-11-12-11-11-12-11-11-11 frames with
/// a block, each followed by an empty frame), a stream at base x m / d has carried
/// C(k) = ceil(m x P(k) / d) blocks before frame k. So 48 kHz / d sends a block in
/// frame 0 and then every d frames, 32 kHz sends 2 blocks in every 3 frames, and the
/// x2 and x4 rates carry 2 or 4 blocks in each non-empty frame. Every count is O(1).
public struct LinkCadence: Hashable, Sendable {
    /// The stream's rate encoding.
    public let rate: RateEncoding

    /// The frames of one 44.1 kHz period.
    public static let period44k: UInt64 = 160
    /// The base blocks of one 44.1 kHz period.
    public static let blocksPerPeriod44k: UInt64 = 147
    /// The lengths of the runs of frames with a block; each is followed by one empty frame.
    public static let runs44k: [UInt64] = [12, 11, 11, 12, 11, 11, 12, 11, 11, 12, 11, 11, 11]

    /// prefix44k[i] = base blocks in frames 0..<i of a period (161 values).
    @usableFromInline static let prefix44k: [UInt64] = {
        var prefix: [UInt64] = [0]
        for run in runs44k {
            for _ in 0..<run { prefix.append(prefix.last! + 1) }
            prefix.append(prefix.last!)
        }
        precondition(prefix.count == 161 && prefix.last == 147)
        return prefix
    }()

    /// The cadence of a rate encoding.
    public init(_ rate: RateEncoding) { self.rate = rate }

    /// The cadence of a valid stream format.
    public init(_ format: StreamFormat) throws(NTStatus) {
        guard let rate = RateEncoding(rate: format.sampleRate) else { throw .invalidParameter }
        self.rate = rate
    }

    /// Base blocks (x1, /1) in frames 0..<k.
    @inlinable
    func baseBlocks(before k: UInt64) -> UInt64 {
        switch rate.base {
        case .hz48000: return k
        case .hz44100:
            return (k / Self.period44k) * Self.blocksPerPeriod44k + Self.prefix44k[Int(k % Self.period44k)]
        }
    }

    /// Sample blocks the stream carries in frames 0..<k.
    @inlinable
    public func blocks(before k: UInt64) -> UInt64 {
        let scaled = baseBlocks(before: k) * UInt64(rate.multiplier)
        let d = UInt64(rate.divisor)
        return Self.divide(scaled + d - 1, by: d)
    }

    /// x / n for the multipliers and divisors of a rate (1 to 8), each case a constant
    /// divisor the compiler turns into a multiply and shift: a general 64-bit division
    /// was most of the cost of the two functions above, which run on every engine move.
    @inlinable @inline(__always)
    static func divide(_ x: UInt64, by n: UInt64) -> UInt64 {
        switch n {
        case 1: return x
        case 2: return x / 2
        case 3: return x / 3
        case 4: return x / 4
        case 5: return x / 5
        case 6: return x / 6
        case 7: return x / 7
        case 8: return x / 8
        default: return x / n
        }
    }

    /// Sample blocks in link frame `k`.
    public func blocks(inFrame k: UInt64) -> Int { Int(blocks(before: k + 1) - blocks(before: k)) }

    /// Sample blocks in the frames of `range`, in O(1).
    @inlinable
    public func blocks(inFrames range: Range<UInt64>) -> UInt64 {
        blocks(before: range.upperBound) - blocks(before: range.lowerBound)
    }

    /// The most blocks any frame carries: ceil(m / d). For the 44.1 kHz rates of the
    /// table (d = 1) that is m, as the reference says; for rates such as 44100 x 2 / 3
    /// no frame ever carries more than ceil(m / d), so that is what is charged.
    public var peakBlocksPerFrame: Int { Int((rate.multiplier + rate.divisor - 1) / rate.divisor) }

    /// The first frame at or after `start` by which `count` more blocks will have been
    /// carried: the smallest k with blocks(start..<k) >= count. Used to jump from event
    /// to event; `count` must be positive. In O(1): blocks(before: k) = ceil(base(k) x m / d)
    /// reaches T exactly when base(k) x m >= (T - 1) x d + 1, so k is the first frame whose
    /// base count reaches ceil(((T - 1) x d + 1) / m), and the base count (k itself at 48 kHz,
    /// whole 160-frame periods plus the prefix table at 44.1 kHz) inverts directly.
    @inlinable
    public func frame(after start: UInt64, carrying count: UInt64) -> UInt64 {
        frame(reaching: blocks(before: start) + count, notBefore: start)
    }

    /// The first frame k at or after `start` with blocks(before: k) >= `target`: the same
    /// answer as `frame(after:carrying:)` for a caller that already knows how many blocks
    /// the stream carried before `start` (an engine counts the blocks it moved), without
    /// computing that again.
    @inlinable
    public func frame(reaching target: UInt64, notBefore start: UInt64) -> UInt64 {
        guard target > 0 else { return start }
        let m = UInt64(rate.multiplier), d = UInt64(rate.divisor)
        let base = Self.divide((target - 1) * d + 1 + m - 1, by: m)
        let k: UInt64
        switch rate.base {
        case .hz48000:
            k = base
        case .hz44100:
            // base >= 1: whole periods before, then the first frame of the period whose
            // prefix reaches the rest (1 ... 147).
            let periods = (base - 1) / Self.blocksPerPeriod44k
            let rest = base - periods * Self.blocksPerPeriod44k
            k = periods * Self.period44k + Self.firstFrame44k[Int(rest)]
        }
        return max(k, start)
    }

    /// For each count r of base blocks (0 ... 147), the first frame index i of a 44.1 kHz
    /// period with prefix44k[i] >= r.
    @usableFromInline static let firstFrame44k: [UInt64] = {
        (0...Int(blocksPerPeriod44k)).map { r in UInt64(prefix44k.firstIndex { $0 >= UInt64(r) }!) }
    }()
}
