/// HDAUDIO_CONVERTER_FORMAT: the 16-bit stream format of SDnFMT and of a codec converter.
///
/// Bit 15 TYPE (0 PCM), bit 14 BASE, bits 13:11 MULT, bits 10:8 DIV, bit 7 reserved,
/// bits 6:4 BITS, bits 3:0 CHAN (channels - 1). The bus driver always writes TYPE = 0.
public struct ConverterFormat: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 16-bit register value.
    public var rawValue: UInt16

    /// Wraps a raw value; not checked (see `decode()`).
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Encodes a stream format; STATUS_INVALID_PARAMETER for an invalid one.
    public init(_ format: StreamFormat) throws(NTStatus) {
        try format.validate()
        guard let rate = RateEncoding(rate: format.sampleRate),
              let bitsCode = StreamFormat.legalSampleBits.firstIndex(of: format.validBitsPerSample)
        else { throw .invalidParameter }
        rawValue = rate.rateBits | Self.bits.placing(UInt16(bitsCode)) | Self.chan.placing(format.numberOfChannels - 1)
    }

    /// Why a raw value cannot be decoded.
    public enum DecodeError: Error, Hashable, Sendable, CustomStringConvertible {
        /// TYPE = 1: a non-PCM stream, which the bus driver never programs.
        case nonPCM
        /// Bit 7 is reserved and must be 0.
        case reservedBitSet
        /// MULT values 100-111 are reserved.
        case reservedMultiplier(UInt16)
        /// BITS values 101-111 are reserved.
        case reservedBits(UInt16)
        /// A legal register value whose rate (44100 x mult / div) is not a whole number of
        /// Hz, so HDAUDIO_STREAM_FORMAT cannot hold it.
        case fractionalRate(RateEncoding)

        /// The reason in words.
        public var description: String {
            switch self {
            case .nonPCM: "TYPE (bit 15) is 1: non-PCM formats are not decoded"
            case .reservedBitSet: "bit 7 is reserved and set"
            case .reservedMultiplier(let m): "MULT \(m) (0b\(String(m, radix: 2))) is reserved"
            case .reservedBits(let b): "BITS \(b) (0b\(String(b, radix: 2))) is reserved"
            case .fractionalRate(let r):
                "\(r.base.rawValue) x \(r.multiplier) / \(r.divisor) is not a whole number of Hz"
            }
        }
    }

    /// TYPE (bit 15): 1 for non-PCM.
    public static let type = BitField<UInt16>(bit: 15)
    /// BASE (bit 14): 1 for 44.1 kHz.
    public static let baseBit = BitField<UInt16>(bit: 14)
    /// MULT (bits 13:11).
    public static let mult = BitField<UInt16>(bits: 11..<14)
    /// DIV (bits 10:8).
    public static let div = BitField<UInt16>(bits: 8..<11)
    /// Bit 7: reserved, must be 0.
    public static let reserved = BitField<UInt16>(bit: 7)
    /// BITS (bits 6:4).
    public static let bits = BitField<UInt16>(bits: 4..<7)
    /// CHAN (bits 3:0): channels - 1.
    public static let chan = BitField<UInt16>(bits: 0..<4)
    /// The bits SDnFMT lets software write: all but the reserved bit 7.
    public static let writable: UInt16 = ~reserved.mask

    /// TYPE: true for non-PCM.
    public var isNonPCM: Bool { Self.type.isSet(in: rawValue) }
    /// BASE: the base rate.
    public var base: BaseRate { Self.baseBit.isSet(in: rawValue) ? .hz44100 : .hz48000 }
    /// MULT field (0-7; 0-3 are x1 to x4).
    public var multField: UInt16 { Self.mult.extract(rawValue) }
    /// DIV field (0-7, divide by value + 1).
    public var divField: UInt16 { Self.div.extract(rawValue) }
    /// BITS field (0-7; 0-4 are 8, 16, 20, 24, 32).
    public var bitsField: UInt16 { Self.bits.extract(rawValue) }
    /// Channels (CHAN + 1).
    public var channels: UInt16 { Self.chan.extract(rawValue) + 1 }

    /// Decodes to a stream format (container: the smallest legal one for the sample size).
    public func decode() throws(DecodeError) -> StreamFormat {
        if isNonPCM { throw .nonPCM }
        if Self.reserved.isSet(in: rawValue) { throw .reservedBitSet }
        if multField > 3 { throw .reservedMultiplier(multField) }
        if bitsField > 4 { throw .reservedBits(bitsField) }
        let rate = RateEncoding(base: base, multiplier: UInt32(multField) + 1, divisor: UInt32(divField) + 1)
        if (rate.base.rawValue * rate.multiplier) % rate.divisor != 0 { throw .fractionalRate(rate) }
        let bits = StreamFormat.legalSampleBits[Int(bitsField)]
        return StreamFormat(rate: rate.rate, bits: bits, channels: channels)
    }

    /// The exact rate as a fraction, for values whose rate is not a whole number of Hz.
    public var rateEncoding: RateEncoding {
        RateEncoding(base: base, multiplier: UInt32(multField) + 1, divisor: UInt32(divField) + 1)
    }

    /// `0x4011`.
    public var hexString: String { rawValue.hexLiteral }

    /// `0x4011`.
    public var description: String { hexString }
}
