/// One codec as Linux describes it in `/proc/asound/cardN/codec#M` (the text alsa-info
/// collects and hda-emu replays): the numbers the chip answered, and the state Linux had
/// left it in when the file was written.
///
/// The capability fields are the chip's parameters. The state fields (`CodecDump.NodeState`)
/// are what Linux had programmed; a `DumpCodec` starts from the specification's reset values
/// unless asked to start from them.
public struct CodecDump: Hashable, Sendable {
    /// `Codec:` (the chip's name as Linux knew it).
    public var name: String
    /// `Address:` (the SDI line Linux found it on).
    public var address: UInt8
    /// `AFG Function Id: 0x1 (unsol 1)`: function group type (7:0) and unsolicited capable
    /// (bit 8), as the function group type parameter; nil when the codec has no audio function group.
    public var afgFunctionType: UInt32?
    /// `MFG Function Id:` the same for a modem function group, nil when it has none.
    public var mfgFunctionType: UInt32?
    /// `Modem Function Group: 0x2`: the modem function group's node, when printed.
    public var mfgNode: UInt8?
    /// `State of AFG node 0x01:`: the audio function group's node, when printed (else 0x01).
    public var afgNode: UInt8?
    /// `Vendor Id:`.
    public var vendorID: UInt32
    /// `Subsystem Id:`.
    public var subsystemID: UInt32
    /// `Revision Id:`.
    public var revisionID: UInt32
    /// `Default PCM:` rates and bits (the AFG's supported PCM parameter), nil when not printed.
    public var defaultPCM: UInt32?
    /// `Default PCM:` formats (the AFG's supported stream formats parameter).
    public var defaultStreamFormats: UInt32?
    /// `Default Amp-In caps:` (0 for N/A).
    public var defaultAmpInCaps: UInt32 = 0
    /// `Default Amp-Out caps:` (0 for N/A).
    public var defaultAmpOutCaps: UInt32 = 0
    /// The AFG's `Power states:` (supported power states parameter), when printed.
    public var afgPowerStates: UInt32?
    /// The AFG's `Power: setting=..., actual=...` (state), when printed.
    public var afgPower: UInt32?
    /// `GPIO: io=2, o=0, i=0, unsolicited=1, wake=0` as the GPIO count parameter.
    public var gpioCapabilities: UInt32?
    /// The `IO[n]:` lines (state): enable, direction, wake, sticky, data, unsol masks.
    public var gpioState = GPIOState()
    /// Lines at the function group level that Azalia keeps but does not read (vendor
    /// additions such as IDT's `Power-Map:`), in order.
    public var groupNotes: [String] = []
    /// The widgets, in node order.
    public var nodes: [Node]
    /// The line of the file the codec starts on (1-based).
    public var line: Int
    /// How the file printed the function group ids: `AFG Function Id:` (true), the older
    /// `Function Id:` (false), or not at all (nil); the re-printer follows it.
    public var functionIdStyle: Bool? = true
    /// The codec's lines as the file has them (line `line + k` is `sourceLines[k]`).
    public var sourceLines: [String] = []

    /// The GPIO masks (one bit per GPIO), as the six GPIO get verbs answer them.
    public struct GPIOState: Hashable, Sendable {
        /// GPIO enable mask (F16).
        public var enable: UInt8 = 0
        /// GPIO direction (F17).
        public var direction: UInt8 = 0
        /// GPIO wake enable mask (F18).
        public var wake: UInt8 = 0
        /// GPIO sticky mask (F1A).
        public var sticky: UInt8 = 0
        /// GPIO data (F15).
        public var data: UInt8 = 0
        /// GPIO unsolicited enable mask (F19).
        public var unsolicited: UInt8 = 0
        /// Nothing set.
        public init() {}
    }

    /// One widget: its parameters and the state Linux left.
    public struct Node: Hashable, Sendable {
        /// The node id.
        public var id: UInt8
        /// Audio widget capabilities (`wcaps`).
        public var wcaps: UInt32
        /// Input amplifier capabilities (0 for none or N/A).
        public var ampInCaps: UInt32 = 0
        /// Output amplifier capabilities.
        public var ampOutCaps: UInt32 = 0
        /// Pin capabilities (`Pincap`).
        public var pinCaps: UInt32 = 0
        /// Configuration default (`Pin Default`).
        public var configDefault: UInt32 = 0
        /// Supported PCM sizes and rates (`PCM:` of a converter with format override).
        public var pcm: UInt32?
        /// Supported stream formats.
        public var streamFormats: UInt32?
        /// Supported power states (`Power states:`).
        public var powerStates: UInt32?
        /// Processing capabilities (`Processing caps:`).
        public var processingCaps: UInt32?
        /// Volume knob capabilities (`Volume-Knob: delta=, steps=`).
        public var volumeKnobCaps: UInt32?
        /// Device list length (`Devices: N`, DP multi-stream pins).
        public var deviceListLength: UInt32?
        /// The connection list (expanded).
        public var connections: [UInt8] = []
        /// What Linux had programmed.
        public var state = NodeState()
        /// True when the dump printed `IEC Coding Type:` (newer kernels do, even for 0).
        public var printsCodingType = false
        /// Lines about Linux's own controls (`Control:`, `ControlAmp:`, `Device:`) that come
        /// first in a node; kept to re-print, not read.
        public var leadingNotes: [String] = []
        /// Other lines Azalia keeps but does not read (vendor additions), re-printed last.
        public var trailingNotes: [String] = []
        /// The line of the file the node starts on.
        public var line: Int

        /// The widget type (wcaps bits 23:20).
        public var type: WidgetType { WidgetType(rawValue: UInt8((wcaps >> 20) & 0xF)) ?? .vendor }
        /// Channels the widget carries (wcaps channel count, bits 15:13 and 0, plus one).
        public var channels: Int { Int((wcaps >> 13) & 0x7) << 1 | Int(wcaps & 1) + 1 }

        /// A node with an id and capabilities.
        public init(id: UInt8, wcaps: UInt32, line: Int = 0) {
            self.id = id
            self.wcaps = wcaps
            self.line = line
        }
    }

    /// The state fields of a node, as Linux left them (the dump's `vals`, `Pin-ctls`, ...).
    public struct NodeState: Hashable, Sendable {
        /// Input amp values, per connection index: [left, right] (mute bit 7, gain 6:0).
        public var ampIn: [[UInt8]] = []
        /// Output amp values: [left, right].
        public var ampOut: [UInt8] = []
        /// Pin widget control.
        public var pinControl: UInt8 = 0
        /// EAPD/BTL enable.
        public var eapd: UInt8 = 0
        /// Unsolicited response control (bit 7 enable, 5:0 tag).
        public var unsolicited: UInt8 = 0
        /// Power state (GET_POWER_STATE answer).
        public var power: UInt32 = 0
        /// Converter stream (7:4) and channel (3:0).
        public var streamChannel: UInt8 = 0
        /// SDI select.
        public var sdiSelect: UInt8 = 0
        /// Digital converter control, bytes 1 to 3 (GET_DIGITAL_CONVERTER bits 23:0).
        public var digital: UInt32 = 0
        /// Selected connection index.
        public var connectionSelect: UInt8 = 0
        /// Volume knob control (direct bit 7, value 6:0).
        public var volumeKnob: UInt8 = 0
        /// Device select and the device entries of a DP multi-stream pin (`Dev NN:` lines).
        public var deviceSelect: UInt8 = 0
        /// The `Dev NN:` lines' present/ELD-valid/inactive bits, per device.
        public var devices: [UInt8] = []
        /// Nothing set.
        public init() {}
    }

    /// The widget type field of the audio widget capabilities.
    public enum WidgetType: UInt8, Hashable, Sendable, CaseIterable, Codable {
        /// Audio output converter (DAC).
        case audioOutput = 0x0
        /// Audio input converter (ADC).
        case audioInput = 0x1
        /// Mixer.
        case mixer = 0x2
        /// Selector.
        case selector = 0x3
        /// Pin complex.
        case pin = 0x4
        /// Power widget.
        case power = 0x5
        /// Volume knob.
        case volumeKnob = 0x6
        /// Beep generator.
        case beep = 0x7
        /// Vendor defined (and the reserved values 8 to 14).
        case vendor = 0xF

        /// The name Linux prints between brackets.
        public var linuxName: String {
            switch self {
            case .audioOutput: "Audio Output"
            case .audioInput: "Audio Input"
            case .mixer: "Audio Mixer"
            case .selector: "Audio Selector"
            case .pin: "Pin Complex"
            case .power: "Power Widget"
            case .volumeKnob: "Volume Knob Widget"
            case .beep: "Beep Generator Widget"
            case .vendor: "Vendor Defined Widget"
            }
        }
    }

    /// The node with an id, if the dump has it.
    public func node(_ id: UInt8) -> Node? {
        guard let first = nodes.first, id >= first.id else { return nil }
        let i = Int(id - first.id)
        if i < nodes.count, nodes[i].id == id { return nodes[i] }
        return nodes.first { $0.id == id }
    }

    /// The audio function group's node: printed, or 0x01 (see `DumpCodec`).
    public var functionGroupNode: UInt8 { afgNode ?? 1 }

    /// A one-line summary: `Realtek ALC269VC (0x10ec0269), 35 nodes`.
    public var summary: String {
        "\(name) (0x\(String(vendorID, radix: 16).leftPadded(8))), \(nodes.count) nodes"
    }
}

/// Bits of the widget capabilities, pin capabilities and configuration default that the
/// dump format, the graph and the codec read.
public enum WidgetBits {
    /// wcaps: stereo (channel count bit 0).
    public static let stereo: UInt32 = 1 << 0
    /// wcaps: input amp present.
    public static let inAmp: UInt32 = 1 << 1
    /// wcaps: output amp present.
    public static let outAmp: UInt32 = 1 << 2
    /// wcaps: amp parameter override.
    public static let ampOverride: UInt32 = 1 << 3
    /// wcaps: format override.
    public static let formatOverride: UInt32 = 1 << 4
    /// wcaps: stripe.
    public static let stripe: UInt32 = 1 << 5
    /// wcaps: processing widget.
    public static let processing: UInt32 = 1 << 6
    /// wcaps: unsolicited capable.
    public static let unsolicited: UInt32 = 1 << 7
    /// wcaps: connection list.
    public static let connectionList: UInt32 = 1 << 8
    /// wcaps: digital.
    public static let digital: UInt32 = 1 << 9
    /// wcaps: power control.
    public static let powerControl: UInt32 = 1 << 10
    /// wcaps: left/right swap.
    public static let lrSwap: UInt32 = 1 << 11
    /// wcaps: content protection.
    public static let contentProtection: UInt32 = 1 << 12
    /// pincap: presence detect.
    public static let pinDetect: UInt32 = 1 << 2
    /// pincap: output capable.
    public static let pinOut: UInt32 = 1 << 4
    /// pincap: input capable.
    public static let pinIn: UInt32 = 1 << 5
    /// pincap: EAPD capable.
    public static let pinEAPD: UInt32 = 1 << 16
    /// Config default: port connectivity 31:30 (1 = no physical connection).
    public static func portConnectivity(_ config: UInt32) -> UInt32 { config >> 30 }
    /// Config default: default device 23:20.
    public static func defaultDevice(_ config: UInt32) -> UInt32 { (config >> 20) & 0xF }
    /// Config default: location 29:24.
    public static func location(_ config: UInt32) -> UInt32 { (config >> 24) & 0x3F }
}

extension String {
    /// The string with leading zeros up to `width` characters.
    func leftPadded(_ width: Int, with c: Character = "0") -> String {
        count >= width ? self : String(repeating: c, count: width - count) + self
    }
}
