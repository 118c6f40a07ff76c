public import HDAudio

/// Codec command verbs as they travel in a CORB entry.
///
/// Bits 31:28 codec address, 27:20 node id, 19:0 the verb and its payload: a 12-bit verb
/// with an 8-bit payload, or, for the verbs whose top hex digit is 0x2 to 0x5 or 0xA to
/// 0xD (converter format, amplifier gain/mute, coefficients), a 4-bit verb with a 16-bit
/// payload. Verb ids and parameter ids as in the HD Audio specification (the same values
/// Linux names in include/sound/hda_verbs.h).
public struct CodecVerb: Hashable, Sendable, CustomStringConvertible {
    /// The 32-bit CORB entry.
    public var rawValue: UInt32

    /// Wraps a CORB entry.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// A verb with a 12-bit id and an 8-bit payload.
    public init(codec: UInt8, node: UInt8, verb: UInt16, payload: UInt8 = 0) {
        rawValue = UInt32(codec & 0xF) << 28 | UInt32(node) << 20 | UInt32(verb & 0xFFF) << 8 | UInt32(payload)
    }

    /// A verb with a 4-bit id and a 16-bit payload.
    public init(codec: UInt8, node: UInt8, shortVerb: UInt8, payload: UInt16) {
        rawValue = UInt32(codec & 0xF) << 28 | UInt32(node) << 20 | UInt32(shortVerb & 0xF) << 16 | UInt32(payload)
    }

    /// GET_PARAMETER `parameter` of `node`.
    public static func getParameter(codec: UInt8, node: UInt8, _ parameter: CodecParameter) -> CodecVerb {
        CodecVerb(codec: codec, node: node, verb: getParameter, payload: parameter.rawValue)
    }

    /// SET_CONVERTER_FORMAT (4-bit verb 0x2) of a converter node.
    public static func setFormat(codec: UInt8, node: UInt8, _ format: ConverterFormat) -> CodecVerb {
        CodecVerb(codec: codec, node: node, shortVerb: setConverterFormat, payload: format.rawValue)
    }

    /// SET_CONVERTER_STREAM_CHANNEL (0x706): stream tag in bits 7:4 (0 stops), lowest channel in 3:0.
    public static func setStream(codec: UInt8, node: UInt8, tag: UInt8, channel: UInt8 = 0) -> CodecVerb {
        CodecVerb(codec: codec, node: node, verb: setConverterStreamChannel, payload: (tag & 0xF) << 4 | (channel & 0xF))
    }

    /// SET_UNSOLICITED_ENABLE (0x708) with `tag` (bits 5:0) and the enable bit 7.
    public static func enableUnsolicited(codec: UInt8, node: UInt8, tag: UInt8, enabled: Bool = true) -> CodecVerb {
        CodecVerb(codec: codec, node: node, verb: setUnsolicitedEnable, payload: (enabled ? 0x80 : 0) | (tag & 0x3F))
    }

    /// Bits 31:28: the codec address.
    public var codecAddress: UInt8 { UInt8(CorbEntry.codecAddress.extract(rawValue)) }
    /// Bits 27:20: the node id.
    public var node: UInt8 { UInt8((rawValue >> 20) & 0xFF) }
    /// Bits 19:16: the 4-bit verb id of a 16-bit-payload verb.
    public var shortVerb: UInt8 { UInt8((rawValue >> 16) & 0xF) }
    /// True when the verb carries a 16-bit payload (4-bit id 0x2-0x5 or 0xA-0xD).
    public var hasLongPayload: Bool { (0x2...0x5).contains(shortVerb) || (0xA...0xD).contains(shortVerb) }
    /// Bits 19:8: the 12-bit verb id (meaningful when `hasLongPayload` is false).
    public var verb: UInt16 { UInt16((rawValue >> 8) & 0xFFF) }
    /// Bits 7:0: the 8-bit payload.
    public var payload8: UInt8 { UInt8(rawValue & 0xFF) }
    /// Bits 15:0: the 16-bit payload.
    public var payload16: UInt16 { UInt16(rawValue & 0xFFFF) }

    /// `0x0020F000 (codec 0, node 2, verb 0xF00, payload 0x00)`.
    public var description: String {
        let (verbField, payload) = hasLongPayload
            ? (shortVerb.hexLiteral(digits: 1), payload16.hexLiteral(digits: 1))
            : (verb.hexLiteral(digits: 1), payload8.hexLiteral(digits: 1))
        return "\(rawValue.hexLiteral) (codec \(codecAddress), node \(node), verb \(verbField), payload \(payload))"
    }

    // 4-bit verbs (16-bit payload).
    /// Set converter format.
    public static let setConverterFormat: UInt8 = 0x2
    /// Set amplifier gain/mute.
    public static let setAmpGainMute: UInt8 = 0x3
    /// Get converter format.
    public static let getConverterFormat: UInt8 = 0xA
    /// Get amplifier gain/mute.
    public static let getAmpGainMute: UInt8 = 0xB

    // 12-bit verbs (8-bit payload).
    /// Get parameter (payload: parameter id).
    public static let getParameter: UInt16 = 0xF00
    /// Get connection select control.
    public static let getConnectionSelect: UInt16 = 0xF01
    /// Get connection list entries (payload: index of the first entry).
    public static let getConnectionListEntry: UInt16 = 0xF02
    /// Get power state.
    public static let getPowerState: UInt16 = 0xF05
    /// Get converter stream and channel.
    public static let getConverterStreamChannel: UInt16 = 0xF06
    /// Get pin widget control.
    public static let getPinWidgetControl: UInt16 = 0xF07
    /// Get unsolicited response enable.
    public static let getUnsolicitedEnable: UInt16 = 0xF08
    /// Get pin sense (bit 31 presence).
    public static let getPinSense: UInt16 = 0xF09
    /// Get configuration default.
    public static let getConfigDefault: UInt16 = 0xF1C
    /// Get subsystem id.
    public static let getSubsystemID: UInt16 = 0xF20
    /// Set connection select control.
    public static let setConnectionSelect: UInt16 = 0x701
    /// Set power state.
    public static let setPowerState: UInt16 = 0x705
    /// Set converter stream and channel (stream tag bits 7:4, lowest channel bits 3:0).
    public static let setConverterStreamChannel: UInt16 = 0x706
    /// Set pin widget control.
    public static let setPinWidgetControl: UInt16 = 0x707
    /// Set unsolicited response enable (bit 7 enable, bits 5:0 tag).
    public static let setUnsolicitedEnable: UInt16 = 0x708
    /// Execute function group reset (on the audio function group).
    public static let functionReset: UInt16 = 0x7FF
}

/// Parameter ids of the get-parameter verb (0xF00).
public enum CodecParameter: UInt8, Sendable, CaseIterable {
    /// Vendor id (bits 31:16) and device id (15:0).
    case vendorID = 0x00
    /// Subsystem id.
    case subsystemID = 0x01
    /// Revision id: major 23:20, minor 19:16, revision 15:8, stepping 7:0.
    case revisionID = 0x02
    /// Subordinate node count: starting node 23:16, total nodes 7:0.
    case subordinateNodeCount = 0x04
    /// Function group type: 7:0 type (1 audio), bit 8 unsolicited capable.
    case functionGroupType = 0x05
    /// Audio function group capabilities (delays, beep generator).
    case audioFunctionGroupCapabilities = 0x08
    /// Audio widget capabilities: type 23:20, channel count extension 15:13, ... stereo 0.
    case audioWidgetCapabilities = 0x09
    /// Supported PCM sizes (bits 20:16: 32, 24, 20, 16, 8) and rates (bits 11:0).
    case supportedPCMSizeRates = 0x0A
    /// Supported stream formats (bit 0 PCM, 1 float32, 2 AC-3).
    case supportedStreamFormats = 0x0B
    /// Pin capabilities.
    case pinCapabilities = 0x0C
    /// Input amplifier capabilities.
    case inputAmpCapabilities = 0x0D
    /// Connection list length: bits 6:0 entries, bit 7 long form.
    case connectionListLength = 0x0E
    /// Supported power states (bits 3:0 D0-D3).
    case supportedPowerStates = 0x0F
    /// Processing capabilities.
    case processingCapabilities = 0x10
    /// GPIO count.
    case gpioCount = 0x11
    /// Output amplifier capabilities.
    case outputAmpCapabilities = 0x12
    /// Volume knob capabilities.
    case volumeKnobCapabilities = 0x13
}

/// Field values of the codec's parameters and controls.
public enum CodecBits {
    /// Function group type: audio function group.
    public static let functionGroupAudio: UInt32 = 0x01
    /// Function group type: unsolicited responses capable.
    public static let functionGroupUnsolicitedCapable: UInt32 = 1 << 8
    /// Widget type field (bits 23:20) shift.
    public static let widgetTypeShift: UInt32 = 20
    /// Widget type: audio output converter.
    public static let widgetTypeAudioOutput: UInt32 = 0x0
    /// Widget type: audio input converter.
    public static let widgetTypeAudioInput: UInt32 = 0x1
    /// Widget type: pin complex.
    public static let widgetTypePin: UInt32 = 0x4
    /// Widget capability: stereo (channel count bit 0).
    public static let widgetStereo: UInt32 = 1 << 0
    /// Widget capability: format override (the converter answers its own PCM parameters).
    public static let widgetFormatOverride: UInt32 = 1 << 4
    /// Widget capability: unsolicited responses capable.
    public static let widgetUnsolicitedCapable: UInt32 = 1 << 7
    /// Widget capability: has a connection list.
    public static let widgetConnectionList: UInt32 = 1 << 8
    /// Widget capability: power control.
    public static let widgetPowerControl: UInt32 = 1 << 10
    /// Widget capability: channel count extension field (bits 15:13) shift.
    public static let widgetChannelCountExtShift: UInt32 = 13
    /// Supported PCM: the rates of bits 0 to 11, in order.
    public static let pcmRates: [UInt32] = [8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000, 176400, 192000, 384000]
    /// Supported PCM: bit 16 + index for 8, 16, 20, 24, 32-bit samples.
    public static let pcmSizeShift: UInt32 = 16
    /// Supported stream formats: PCM.
    public static let streamFormatPCM: UInt32 = 1 << 0
    /// Pin capability: presence detect.
    public static let pinPresenceDetect: UInt32 = 1 << 2
    /// Pin capability: headphone drive.
    public static let pinHeadphoneDrive: UInt32 = 1 << 3
    /// Pin capability: output capable.
    public static let pinOutput: UInt32 = 1 << 4
    /// Pin capability: input capable.
    public static let pinInput: UInt32 = 1 << 5
    /// Pin widget control: input enable.
    public static let pinControlInEnable: UInt8 = 1 << 5
    /// Pin widget control: output enable.
    public static let pinControlOutEnable: UInt8 = 1 << 6
    /// Pin widget control: headphone enable.
    public static let pinControlHPEnable: UInt8 = 1 << 7
    /// Pin sense: presence detected.
    public static let pinSensePresence: UInt32 = 1 << 31
    /// Unsolicited enable control: enable bit.
    public static let unsolicitedEnable: UInt8 = 1 << 7
    /// Unsolicited enable control: tag mask (bits 5:0).
    public static let unsolicitedTagMask: UInt8 = 0x3F
    /// Unsolicited response: tag shift (bits 31:26).
    public static let unsolicitedTagShift: UInt32 = 26
    /// Supported power states D0 to D3.
    public static let powerStatesD0toD3: UInt32 = 0xF
}
