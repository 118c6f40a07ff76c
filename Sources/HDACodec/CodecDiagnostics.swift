public import HDAudio

/// Why a converter did not play or record a stream packet.
public enum StreamFault: Error, Hashable, Sendable, CustomStringConvertible {
    /// The converter's format is not the stream's.
    case formatDiffers
    /// The converter format cannot be decoded (reserved fields), so nothing can be played.
    case undecodableFormat
    /// The formats match but the converter's capabilities do not include it.
    case unsupportedFormat
    /// The packet's length is not a whole number of blocks of the format.
    case badPacketLength

    /// The fault in words.
    public var description: String {
        switch self {
        case .formatDiffers: "converter format differs from the stream's"
        case .undecodableFormat: "converter format cannot be decoded"
        case .unsupportedFormat: "format not supported by the converter"
        case .badPacketLength: "packet length is not a whole number of sample blocks"
        }
    }
}

/// A stream packet a converter refused: where, when, and why.
public struct FormatMismatch: Hashable, Sendable, CustomStringConvertible {
    /// The converter's node id.
    public var node: UInt8
    /// True for an output converter (DAC), false for an input converter (ADC).
    public var isOutput: Bool
    /// The stream tag.
    public var tag: UInt8
    /// The first link frame of the packet.
    public var frame: UInt64
    /// Sample blocks in the packet.
    public var blocks: Int
    /// The converter's format.
    public var converterFormat: ConverterFormat
    /// The stream's format.
    public var streamFormat: ConverterFormat
    /// Why the packet was refused.
    public var fault: StreamFault

    /// `DAC node 2, tag 1, frame 10: converter 0x0011 vs stream 0x4011 (converter format differs ...)`.
    public var description: String {
        "\(isOutput ? "DAC" : "ADC") node \(node), tag \(tag), frame \(frame), \(blocks) blocks: converter \(converterFormat) vs stream \(streamFormat) (\(fault))"
    }
}

/// What the codec reports to a trace.
public enum CodecTraceEvent: Sendable {
    /// A verb and the response it got (nil: not for this codec).
    case verb(CodecVerb, response: UInt32?)
    /// A converter refused a packet.
    case mismatch(FormatMismatch)
    /// An unsolicited response was queued.
    case unsolicited(node: UInt8, response: UInt32)
}
