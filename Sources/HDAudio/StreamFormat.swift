/// HDAUDIO_STREAM_FORMAT: the PCM format a client asks an engine to carry.
///
/// **Decision** (reference section 2): valid when the rate is expressible as
/// base x mult / div; ValidBitsPerSample is 8, 16, 20, 24 or 32 and not above
/// ContainerSize; ContainerSize is 8, 16 or 32 (HD Audio memory has no 24-bit
/// container); 1 to 16 channels. Anything else is STATUS_INVALID_PARAMETER.
public struct StreamFormat: Hashable, Sendable, CustomStringConvertible {
    /// SampleRate, in Hz.
    public var sampleRate: UInt32
    /// ValidBitsPerSample: the bits the link carries for each sample.
    public var validBitsPerSample: UInt16
    /// ContainerSize: the bits each sample occupies in memory.
    public var containerSize: UInt16
    /// NumberOfChannels.
    public var numberOfChannels: UInt16

    /// The sample sizes the link can carry, in the order of the BITS field.
    public static let legalSampleBits: [UInt16] = [8, 16, 20, 24, 32]
    /// The container sizes HD Audio memory uses.
    public static let legalContainerSizes: [UInt16] = [8, 16, 32]
    /// The channel counts a stream may have.
    public static let legalChannels: ClosedRange<UInt16> = 1...16

    /// A format with every field given; not validated (see `validate()`).
    public init(sampleRate: UInt32, validBitsPerSample: UInt16, containerSize: UInt16, numberOfChannels: UInt16) {
        self.sampleRate = sampleRate
        self.validBitsPerSample = validBitsPerSample
        self.containerSize = containerSize
        self.numberOfChannels = numberOfChannels
    }

    /// A format whose container is the smallest legal one for `bits` (20 and 24 sit in 32).
    public init(rate: UInt32, bits: UInt16, channels: UInt16) {
        self.init(sampleRate: rate, validBitsPerSample: bits,
                  containerSize: StreamFormat.container(forBits: bits), numberOfChannels: channels)
    }

    /// The smallest legal container for a sample size: 8 for 8, 16 for up to 16, else 32.
    public static func container(forBits bits: UInt16) -> UInt16 {
        bits <= 8 ? 8 : bits <= 16 ? 16 : 32
    }

    /// Checks every field against the Decision; throws STATUS_INVALID_PARAMETER.
    public func validate() throws(NTStatus) {
        guard RateEncoding(rate: sampleRate) != nil,
              StreamFormat.legalSampleBits.contains(validBitsPerSample),
              StreamFormat.legalContainerSizes.contains(containerSize),
              validBitsPerSample <= containerSize,
              StreamFormat.legalChannels.contains(numberOfChannels)
        else { throw .invalidParameter }
    }

    /// Why the format is invalid, in words, or nil when it is valid.
    public var problem: String? {
        if RateEncoding(rate: sampleRate) == nil {
            return "sample rate \(sampleRate) Hz cannot be expressed as 48000 or 44100 x mult (1-4) / div (1-8)"
        }
        if !StreamFormat.legalSampleBits.contains(validBitsPerSample) {
            return "valid bits per sample must be 8, 16, 20, 24 or 32, not \(validBitsPerSample)"
        }
        if !StreamFormat.legalContainerSizes.contains(containerSize) {
            return "container size must be 8, 16 or 32 bits, not \(containerSize)"
        }
        if validBitsPerSample > containerSize {
            return "\(validBitsPerSample) valid bits do not fit a \(containerSize)-bit container"
        }
        if !StreamFormat.legalChannels.contains(numberOfChannels) {
            return "channel count must be 1 to 16, not \(numberOfChannels)"
        }
        return nil
    }

    /// True when `validate()` would not throw.
    public var isValid: Bool { problem == nil }

    /// Bytes one sample occupies in memory.
    public var containerBytes: Int { Int(containerSize) / 8 }
    /// Bytes of one sample block (one sample of every channel) in memory.
    public var blockBytes: Int { Int(numberOfChannels) * containerBytes }
    /// Bits of one sample block on the link.
    public var linkBitsPerBlock: Int { Int(numberOfChannels) * Int(validBitsPerSample) }

    /// `48000/16/2`, or `48000/20in32/2` when the container is not the smallest one.
    public var compact: String {
        let bits = containerSize == StreamFormat.container(forBits: validBitsPerSample)
            ? "\(validBitsPerSample)" : "\(validBitsPerSample)in\(containerSize)"
        return "\(sampleRate)/\(bits)/\(numberOfChannels)"
    }

    /// `48000 Hz, 16-bit in 16, 2 ch`.
    public var description: String {
        "\(sampleRate) Hz, \(validBitsPerSample)-bit in \(containerSize), \(numberOfChannels) ch"
    }

    /// Parses the compact form `RATE/BITS/CHANNELS` or `RATE/BITSinCONTAINER/CHANNELS`.
    /// Returns nil for text that is not of that shape; the result is not validated.
    public init?(compact text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, let rate = UInt32(parts[0]), let channels = UInt16(parts[2]) else { return nil }
        let bitParts = parts[1].split(separator: "in", omittingEmptySubsequences: false)
        guard let bits = UInt16(bitParts[0]) else { return nil }
        var container = StreamFormat.container(forBits: bits)
        if bitParts.count == 2 {
            guard let c = UInt16(bitParts[1]) else { return nil }
            container = c
        } else if bitParts.count > 2 {
            return nil
        }
        self.init(sampleRate: rate, validBitsPerSample: bits, containerSize: container, numberOfChannels: channels)
    }
}

/// The base rates of HD Audio (SDnFMT.BASE).
public enum BaseRate: UInt32, Sendable, CaseIterable {
    /// 48 kHz, BASE = 0.
    case hz48000 = 48000
    /// 44.1 kHz, BASE = 1.
    case hz44100 = 44100
}

/// A sample rate as base x multiplier / divisor (the rate bits of a converter format).
public struct RateEncoding: Hashable, Sendable {
    /// The base rate.
    public var base: BaseRate
    /// The multiplier, 1 to 4.
    public var multiplier: UInt32
    /// The divisor, 1 to 8.
    public var divisor: UInt32

    /// The multipliers the MULT field can express.
    public static let multipliers: ClosedRange<UInt32> = 1...4
    /// The divisors the DIV field can express.
    public static let divisors: ClosedRange<UInt32> = 1...8

    /// An encoding with given fields (not checked against the field ranges).
    public init(base: BaseRate, multiplier: UInt32, divisor: UInt32) {
        self.base = base
        self.multiplier = multiplier
        self.divisor = divisor
    }

    /// The encoding of `rate`: the smallest multiplier, then the smallest divisor, that
    /// gives the rate exactly from either base. Nil when no encoding gives it. (No rate
    /// is expressible from both bases, so the base never needs a tie-break.) Any UInt32
    /// rate is safe: the products are taken in 64 bits.
    public init?(rate: UInt32) {
        for multiplier in RateEncoding.multipliers {
            for divisor in RateEncoding.divisors {
                for base in BaseRate.allCases where UInt64(base.rawValue) * UInt64(multiplier) == UInt64(rate) * UInt64(divisor) {
                    self.init(base: base, multiplier: multiplier, divisor: divisor)
                    return
                }
            }
        }
        return nil
    }

    /// The rate in Hz, rounded down where base x mult / div is not whole.
    public var rate: UInt32 { base.rawValue * multiplier / divisor }

    /// The 16-bit converter-format bits for the rate (BASE, MULT, DIV).
    public var rateBits: UInt16 {
        ConverterFormat.baseBit.placing(base == .hz44100 ? 1 : 0) | ConverterFormat.mult.placing(UInt16(multiplier - 1))
            | ConverterFormat.div.placing(UInt16(divisor - 1))
    }

    /// Every rate the link can express, in ascending order.
    public static let allRates: [UInt32] = {
        var rates = Set<UInt32>()
        for base in BaseRate.allCases {
            for m in multipliers {
                for d in divisors where (base.rawValue * m) % d == 0 { rates.insert(base.rawValue * m / d) }
            }
        }
        return rates.sorted()
    }()
}
