public import HDAudio

/// What a virtual codec offers: ids, converters and the formats they take.
public struct CodecConfiguration: Hashable, Sendable {
    /// Vendor id (31:16) and device id (15:0). The default is Azalia's own made-up id.
    public var vendorID: UInt32 = 0xA2A1_0001
    /// Subsystem id.
    public var subsystemID: UInt32 = 0xA2A1_0001
    /// Revision id: HD Audio 1.0, revision 1, stepping 0.
    public var revisionID: UInt32 = 0x0010_0100
    /// Number of output converters (DACs), each with its own output pin.
    public var dacCount: Int = 4
    /// Number of input converters (ADCs), each with its own input pin.
    public var adcCount: Int = 4
    /// Sample rates the converters take (any rate the link can express).
    public var rates: Set<UInt32> = Set(RateEncoding.allRates)
    /// Sample sizes the converters take (of 8, 16, 20, 24, 32).
    public var sampleBits: Set<UInt16> = Set(StreamFormat.legalSampleBits)
    /// Most channels a converter takes, 1 to 16.
    public var maxChannels: UInt16 = 16

    /// The default: everything the link can carry (every rate, 8 to 32 bits, up to 16
    /// channels), with 4 DACs and 4 ADCs.
    public init() {}

    /// A configuration with the given converters and formats.
    public init(dacCount: Int = 4, adcCount: Int = 4, rates: Set<UInt32> = Set(RateEncoding.allRates),
                sampleBits: Set<UInt16> = Set(StreamFormat.legalSampleBits), maxChannels: UInt16 = 16) {
        self.dacCount = dacCount
        self.adcCount = adcCount
        self.rates = rates
        self.sampleBits = sampleBits
        self.maxChannels = maxChannels
    }

    /// True when the converters take `format` (rate, sample size and channel count).
    public func supports(_ format: StreamFormat) -> Bool {
        rates.contains(format.sampleRate) && sampleBits.contains(format.validBitsPerSample)
            && format.numberOfChannels >= 1 && format.numberOfChannels <= maxChannels
    }
}
