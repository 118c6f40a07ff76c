public import HDAudio

/// A virtual HD Audio codec on the link: node 0 (root), node 1 (audio function group),
/// then the DACs, the ADCs, one output pin per DAC and one input pin per ADC.
///
/// **Decisions** (Azalia's, where the specification leaves room):
/// - A DAC plays a packet only when its stream tag (SET_CONVERTER_STREAM_CHANNEL bits 7:4,
///   0 = stopped) is the packet's and its converter format equals the stream's format,
///   the converter's capabilities include it and the packet is whole blocks. Anything else
///   is recorded as a `FormatMismatch` and the samples are not passed on.
/// - A converter takes the whole stream: the channel field (bits 3:0) is stored and read
///   back but selects nothing.
/// - An ADC whose tag matches sends its source's samples in the stream's format; with no
///   source, silence. An ADC whose format differs sends silence and records the mismatch.
/// - Power states and pin widget controls are stored and read back (actual power state =
///   setting); they do not gate streaming: a sink listens at its converter, not at a pin.
/// - Verbs for another codec address get no answer; verbs for unknown nodes, and unknown
///   verbs, answer 0.
///
/// Its mutable state is reached through the controller's link calls and verbs, which callers
/// serialise (the codec is not Sendable), so exclusivity is not checked at run time on the
/// packet path.
public final class VirtualCodec: LinkCodec {
    /// One node's state.
    struct Widget {
        enum Kind { case functionGroup, dac, adc, outputPin, inputPin }
        var kind: Kind
        var format: UInt16 = 0
        var streamChannel: UInt8 = 0
        var pinControl: UInt8 = 0
        var powerState: UInt8 = 0
        var unsolicited: UInt8 = 0
        var connections: [UInt8] = []
        var connectionSelect: UInt8 = 0
        var present = false
        var configDefault: UInt32 = 0
    }

    /// The codec address (SDI line) this codec answers to.
    public let address: UInt8
    /// The codec's capabilities.
    public let configuration: CodecConfiguration
    /// Node ids of the DACs, in order.
    public let dacNodes: [UInt8]
    /// Node ids of the ADCs, in order.
    public let adcNodes: [UInt8]
    /// Node ids of the output pins (pin i is connected to DAC i).
    public let outputPinNodes: [UInt8]
    /// Node ids of the input pins (ADC i is connected to input pin i).
    public let inputPinNodes: [UInt8]
    /// The root node id.
    public static let rootNode: UInt8 = 0
    /// The audio function group's node id.
    public static let functionGroupNode: UInt8 = 1

    @exclusivity(unchecked) var widgets: [Widget]
    @exclusivity(unchecked) var sinks: [(any SampleSink)?]
    @exclusivity(unchecked) var sources: [(any SampleSource)?]
    @exclusivity(unchecked) var unsolicitedQueue = UnsolicitedQueue()
    @exclusivity(unchecked) var scratch: [UInt8] = []
    /// Each DAC's and ADC's last accepted packet check (see `check(converterFormat:...)`).
    @exclusivity(unchecked) var dacChecks: [PacketCheck]
    @exclusivity(unchecked) var adcChecks: [PacketCheck]

    /// Packets refused by a converter, in total.
    @exclusivity(unchecked) public internal(set) var formatMismatchCount = 0
    /// The first `mismatchLogLimit` refused packets.
    @exclusivity(unchecked) public internal(set) var formatMismatches: [FormatMismatch] = []
    /// How many refused packets `formatMismatches` keeps.
    public var mismatchLogLimit = 256
    /// Blocks each DAC has passed to its sink (or would have, with no sink), by DAC index.
    @exclusivity(unchecked) public internal(set) var blocksPlayed: [Int]
    /// Blocks each ADC has sent, by ADC index.
    @exclusivity(unchecked) public internal(set) var blocksRecorded: [Int]
    /// Unsolicited events dropped because the pin's unsolicited responses were disabled.
    @exclusivity(unchecked) public internal(set) var unsolicitedDropped = 0
    /// Called for every verb, refused packet and unsolicited response (for traces).
    public var trace: ((CodecTraceEvent) -> Void)?

    /// A codec at `address` (0 to 14) with `configuration` (converter counts are capped at 60
    /// each, so that every node id fits in 8 bits).
    public init(address: UInt8 = 0, configuration: CodecConfiguration = CodecConfiguration()) {
        let dacs = max(0, min(configuration.dacCount, 60))
        let adcs = max(0, min(configuration.adcCount, 60))
        self.address = address
        self.configuration = configuration
        let first = 2
        dacNodes = (0..<dacs).map { UInt8(first + $0) }
        adcNodes = (0..<adcs).map { UInt8(first + dacs + $0) }
        outputPinNodes = (0..<dacs).map { UInt8(first + dacs + adcs + $0) }
        inputPinNodes = (0..<adcs).map { UInt8(first + 2 * dacs + adcs + $0) }
        var w = [Widget(kind: .functionGroup), Widget(kind: .functionGroup)]
        for _ in 0..<dacs { w.append(Widget(kind: .dac)) }
        for i in 0..<adcs { w.append(Widget(kind: .adc, connections: [UInt8(first + 2 * dacs + adcs + i)])) }
        for i in 0..<dacs {
            // Jack, rear panel, line out, 1/8", green, association i + 1.
            w.append(Widget(kind: .outputPin, connections: [UInt8(first + i)],
                            configDefault: 0x0101_4000 | UInt32((i + 1) & 0xF) << 4))
        }
        for i in 0..<adcs {
            // Jack, rear panel, line in, 1/8", blue, association 8 + i.
            w.append(Widget(kind: .inputPin, configDefault: 0x0181_3000 | UInt32((8 + i) & 0xF) << 4))
        }
        widgets = w
        sinks = Array(repeating: nil, count: dacs)
        sources = Array(repeating: nil, count: adcs)
        blocksPlayed = Array(repeating: 0, count: dacs)
        blocksRecorded = Array(repeating: 0, count: adcs)
        dacChecks = Array(repeating: PacketCheck(), count: dacs)
        adcChecks = Array(repeating: PacketCheck(), count: adcs)
    }

    // MARK: Wiring

    /// Connects DAC `index` (0-based) to a sink, or disconnects it with nil.
    public func setSink(_ sink: (any SampleSink)?, dac index: Int) {
        guard sinks.indices.contains(index) else { return }
        sinks[index] = sink
    }

    /// Connects ADC `index` (0-based) to a source, or disconnects it with nil.
    public func setSource(_ source: (any SampleSource)?, adc index: Int) {
        guard sources.indices.contains(index) else { return }
        sources[index] = source
    }

    /// Makes a loopback from DAC `dac` to ADC `adc` and returns it.
    @discardableResult
    public func loopback(dac: Int, adc: Int) -> Loopback {
        let l = Loopback()
        setSink(l, dac: dac)
        setSource(l, adc: adc)
        return l
    }
}
