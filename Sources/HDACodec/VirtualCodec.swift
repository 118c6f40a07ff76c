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

    private var widgets: [Widget]
    private var sinks: [(any SampleSink)?]
    private var sources: [(any SampleSource)?]
    private var unsolicitedQueue: [UInt32] = []
    private var unsolicitedHead = 0
    private var scratch: [UInt8] = []

    /// Packets refused by a converter, in total.
    public private(set) var formatMismatchCount = 0
    /// The first `mismatchLogLimit` refused packets.
    public private(set) var formatMismatches: [FormatMismatch] = []
    /// How many refused packets `formatMismatches` keeps.
    public var mismatchLogLimit = 256
    /// Blocks each DAC has passed to its sink (or would have, with no sink), by DAC index.
    public private(set) var blocksPlayed: [Int]
    /// Blocks each ADC has sent, by ADC index.
    public private(set) var blocksRecorded: [Int]
    /// Unsolicited events dropped because the pin's unsolicited responses were disabled.
    public private(set) var unsolicitedDropped = 0
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

    // MARK: State, for tests and drivers' tools

    /// The converter format last set on a node (0 after reset), or nil for no such converter.
    public func converterFormat(node: UInt8) -> ConverterFormat? {
        guard let w = widget(node), w.kind == .dac || w.kind == .adc else { return nil }
        return ConverterFormat(rawValue: w.format)
    }

    /// The stream tag a converter node listens to or sends (0 = none), or nil for no such converter.
    public func streamTag(node: UInt8) -> UInt8? {
        guard let w = widget(node), w.kind == .dac || w.kind == .adc else { return nil }
        return w.streamChannel >> 4
    }

    /// The pin widget control of a pin node, or nil.
    public func pinControl(node: UInt8) -> UInt8? {
        guard let w = widget(node), w.kind == .outputPin || w.kind == .inputPin else { return nil }
        return w.pinControl
    }

    /// Unsolicited responses waiting to be polled.
    public var pendingUnsolicited: Int { unsolicitedQueue.count - unsolicitedHead }

    private func widget(_ node: UInt8) -> Widget? {
        widgets.indices.contains(Int(node)) && node >= 1 ? widgets[Int(node)] : nil
    }

    // MARK: Unsolicited responses

    /// Raises an unsolicited response from `node` with `payload` in bits 25:0: queued
    /// (tag in bits 31:26) when the node's unsolicited responses are enabled, otherwise
    /// dropped and counted. Returns true when queued.
    @discardableResult
    public func raiseUnsolicited(node: UInt8, payload: UInt32 = 0) -> Bool {
        guard let w = widget(node), w.unsolicited & CodecBits.unsolicitedEnable != 0 else {
            unsolicitedDropped += 1
            return false
        }
        let response = UInt32(w.unsolicited & CodecBits.unsolicitedTagMask) << CodecBits.unsolicitedTagShift
            | (payload & 0x03FF_FFFF)
        unsolicitedQueue.append(response)
        trace?(.unsolicited(node: node, response: response))
        return true
    }

    /// Sets a pin's jack presence (read back by GET_PIN_SENSE bit 31); a change raises an
    /// unsolicited response from the pin. Returns true when a response was queued.
    @discardableResult
    public func setJackPresence(pin: UInt8, present: Bool) -> Bool {
        guard var w = widget(pin), w.kind == .outputPin || w.kind == .inputPin else { return false }
        guard w.present != present else { return false }
        w.present = present
        widgets[Int(pin)] = w
        return raiseUnsolicited(node: pin)
    }

    /// The next queued unsolicited response, each returned once.
    public func linkPollUnsolicited() -> UInt32? {
        guard unsolicitedHead < unsolicitedQueue.count else { return nil }
        let r = unsolicitedQueue[unsolicitedHead]
        unsolicitedHead += 1
        if unsolicitedHead == unsolicitedQueue.count { unsolicitedQueue.removeAll(keepingCapacity: true); unsolicitedHead = 0 }
        return r
    }

    // MARK: Link reset

    /// CRST: converters lose stream, channel and format; pins lose their controls and
    /// unsolicited enables; power returns to D0; queued unsolicited responses are dropped.
    /// Sinks, sources and jack presence (the outside world) stay.
    public func linkReset() {
        for i in widgets.indices {
            widgets[i].format = 0
            widgets[i].streamChannel = 0
            widgets[i].pinControl = 0
            widgets[i].powerState = 0
            widgets[i].unsolicited = 0
            widgets[i].connectionSelect = 0
        }
        unsolicitedQueue.removeAll()
        unsolicitedHead = 0
    }

    // MARK: Verbs

    /// Answers a verb (see `CodecVerb` for the encoding); nil when it is for another address.
    public func linkCommand(_ raw: UInt32) -> UInt32? {
        let verb = CodecVerb(rawValue: raw)
        let response: UInt32? = verb.codecAddress == address ? answer(verb) : nil
        trace?(.verb(verb, response: response))
        return response
    }

    private func answer(_ verb: CodecVerb) -> UInt32 {
        let node = verb.node
        if node == VirtualCodec.rootNode {
            guard !verb.hasLongPayload, verb.verb == CodecVerb.getParameter else { return 0 }
            switch CodecParameter(rawValue: verb.payload8) {
            case .vendorID: return configuration.vendorID
            case .revisionID: return configuration.revisionID
            case .subsystemID: return configuration.subsystemID
            case .subordinateNodeCount: return 1 << 16 | 1
            default: return 0
            }
        }
        guard var w = widget(node) else { return 0 }
        defer { widgets[Int(node)] = w }
        let isConverter = w.kind == .dac || w.kind == .adc
        let isPin = w.kind == .outputPin || w.kind == .inputPin
        if verb.hasLongPayload {
            switch verb.shortVerb {
            case CodecVerb.setConverterFormat where isConverter:
                w.format = verb.payload16
            case CodecVerb.getConverterFormat where isConverter:
                return UInt32(w.format)
            default:
                break
            }
            return 0
        }
        switch verb.verb {
        case CodecVerb.getParameter:
            return parameter(verb.payload8, of: w, node: node)
        case CodecVerb.getConnectionSelect:
            return w.connections.isEmpty ? 0 : UInt32(w.connectionSelect)
        case CodecVerb.setConnectionSelect:
            if Int(verb.payload8) < w.connections.count { w.connectionSelect = verb.payload8 }
        case CodecVerb.getConnectionListEntry:
            // Short form: four 8-bit entries starting at the index given, entry k in bits 8k+7:8k.
            var r: UInt32 = 0
            for k in 0..<4 {
                let i = Int(verb.payload8) + k
                if i < w.connections.count { r |= UInt32(w.connections[i]) << (8 * UInt32(k)) }
            }
            return r
        case CodecVerb.getPowerState:
            return UInt32(w.powerState) << 4 | UInt32(w.powerState)
        case CodecVerb.setPowerState:
            w.powerState = verb.payload8 & 0xF
        case CodecVerb.getConverterStreamChannel where isConverter:
            return UInt32(w.streamChannel)
        case CodecVerb.setConverterStreamChannel where isConverter:
            w.streamChannel = verb.payload8
        case CodecVerb.getPinWidgetControl where isPin:
            return UInt32(w.pinControl)
        case CodecVerb.setPinWidgetControl where isPin:
            w.pinControl = verb.payload8
        case CodecVerb.getUnsolicitedEnable where isPin || w.kind == .functionGroup:
            return UInt32(w.unsolicited)
        case CodecVerb.setUnsolicitedEnable where isPin || w.kind == .functionGroup:
            w.unsolicited = verb.payload8 & (CodecBits.unsolicitedEnable | CodecBits.unsolicitedTagMask)
        case CodecVerb.getPinSense where isPin:
            return w.present ? CodecBits.pinSensePresence : 0
        case CodecVerb.getConfigDefault where isPin:
            return w.configDefault
        case CodecVerb.getSubsystemID where w.kind == .functionGroup:
            return configuration.subsystemID
        case CodecVerb.functionReset where w.kind == .functionGroup:
            resetFunctionGroup()
            w = widgets[Int(node)]
        default:
            break
        }
        return 0
    }

    /// Function group reset: every widget's controls return to their reset values.
    private func resetFunctionGroup() {
        let queue = unsolicitedQueue, head = unsolicitedHead
        linkReset()
        unsolicitedQueue = queue
        unsolicitedHead = head
    }

    /// Supported PCM sizes and rates: the 12 rate bits for the configured rates that have
    /// one, bits 20:16 for the configured sample sizes.
    public var supportedPCM: UInt32 {
        var r: UInt32 = 0
        for (i, rate) in CodecBits.pcmRates.enumerated() where configuration.rates.contains(rate) { r |= 1 << UInt32(i) }
        for (i, bits) in StreamFormat.legalSampleBits.enumerated() where configuration.sampleBits.contains(bits) {
            r |= 1 << (CodecBits.pcmSizeShift + UInt32(i))
        }
        return r
    }

    /// Audio widget capabilities of a converter: type, channel count (max channels, split
    /// into bits 15:13 and bit 0), format override, power control.
    private func converterCapabilities(output: Bool) -> UInt32 {
        let count = UInt32(max(1, min(16, configuration.maxChannels))) - 1
        var caps = (output ? CodecBits.widgetTypeAudioOutput : CodecBits.widgetTypeAudioInput) << CodecBits.widgetTypeShift
        caps |= (count >> 1) << CodecBits.widgetChannelCountExtShift | (count & 1)
        caps |= CodecBits.widgetFormatOverride | CodecBits.widgetPowerControl
        if !output { caps |= CodecBits.widgetConnectionList }
        return caps
    }

    private func parameter(_ id: UInt8, of w: Widget, node: UInt8) -> UInt32 {
        guard let p = CodecParameter(rawValue: id) else { return 0 }
        switch (w.kind, p) {
        case (.functionGroup, .subordinateNodeCount):
            return 2 << 16 | UInt32(widgets.count - 2)
        case (.functionGroup, .functionGroupType):
            return CodecBits.functionGroupAudio | CodecBits.functionGroupUnsolicitedCapable
        case (.functionGroup, .subsystemID):
            return configuration.subsystemID
        case (.functionGroup, .supportedPCMSizeRates), (.dac, .supportedPCMSizeRates), (.adc, .supportedPCMSizeRates):
            return supportedPCM
        case (.functionGroup, .supportedStreamFormats), (.dac, .supportedStreamFormats), (.adc, .supportedStreamFormats):
            return CodecBits.streamFormatPCM
        case (_, .supportedPowerStates):
            return CodecBits.powerStatesD0toD3
        case (.dac, .audioWidgetCapabilities):
            return converterCapabilities(output: true)
        case (.adc, .audioWidgetCapabilities):
            return converterCapabilities(output: false)
        case (.outputPin, .audioWidgetCapabilities), (.inputPin, .audioWidgetCapabilities):
            var caps = CodecBits.widgetTypePin << CodecBits.widgetTypeShift | CodecBits.widgetStereo
                | CodecBits.widgetUnsolicitedCapable | CodecBits.widgetPowerControl
            if !w.connections.isEmpty { caps |= CodecBits.widgetConnectionList }
            return caps
        case (.outputPin, .pinCapabilities):
            return CodecBits.pinOutput | CodecBits.pinHeadphoneDrive | CodecBits.pinPresenceDetect
        case (.inputPin, .pinCapabilities):
            return CodecBits.pinInput | CodecBits.pinPresenceDetect
        case (_, .connectionListLength):
            return UInt32(w.connections.count)
        default:
            return 0
        }
    }

    // MARK: Streams

    private func record(_ m: FormatMismatch) {
        formatMismatchCount += 1
        if formatMismatches.count < mismatchLogLimit { formatMismatches.append(m) }
        trace?(.mismatch(m))
    }

    /// Checks a converter against a packet; returns the memory format of the packet, or the fault.
    private func check(converter w: Widget, format: ConverterFormat, blocks: Int, bytes: Int) -> Result<StreamFormat, StreamFault> {
        guard w.format == format.rawValue else { return .failure(.formatDiffers) }
        guard let decoded = try? format.decode() else { return .failure(.undecodableFormat) }
        guard configuration.supports(decoded) else { return .failure(.unsupportedFormat) }
        // The packet is in memory layout; its container size follows from its length.
        let samples = blocks * Int(decoded.numberOfChannels)
        guard samples > 0, bytes % samples == 0 else { return .failure(.badPacketLength) }
        let container = UInt16(bytes / samples * 8)
        guard StreamFormat.legalContainerSizes.contains(container), container >= decoded.validBitsPerSample else {
            return .failure(.badPacketLength)
        }
        var memory = decoded
        memory.containerSize = container
        return .success(memory)
    }

    /// Output stream data: every DAC listening to `tag` with the stream's format passes the
    /// samples (bits below the valid bits cleared) to its sink.
    public func linkReceive(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, data: UnsafeRawBufferPointer) {
        guard tag != 0, blocks > 0 else { return }
        for (i, node) in dacNodes.enumerated() {
            let w = widgets[Int(node)]
            guard w.streamChannel >> 4 == tag else { continue }
            switch check(converter: w, format: format, blocks: blocks, bytes: data.count) {
            case .failure(let fault):
                record(FormatMismatch(node: node, isOutput: true, tag: tag, frame: frame, blocks: blocks,
                                      converterFormat: ConverterFormat(rawValue: w.format), streamFormat: format, fault: fault))
            case .success(let memory):
                blocksPlayed[i] += blocks
                guard let sink = sinks[i] else { continue }
                let layout = PCMLayout(memoryOf: memory)
                if layout.validBits == layout.containerBytes * 8 {
                    sink.consume(data, blocks: blocks, format: memory)
                } else {
                    if scratch.count < data.count { scratch = [UInt8](repeating: 0, count: data.count) }
                    scratch.withUnsafeMutableBytes { d in
                        PCMLayout.convert(data, from: layout, into: d, to: layout, blocks: blocks)
                        sink.consume(UnsafeRawBufferPointer(rebasing: d[0..<data.count]), blocks: blocks, format: memory)
                    }
                }
            }
        }
    }

    /// Input stream data: the first ADC sending `tag` fills `data` from its source (or with
    /// silence) in the stream's format. False when no ADC sends `tag`.
    public func linkTransmit(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int,
                             into data: UnsafeMutableRawBufferPointer) -> Bool {
        guard tag != 0 else { return false }
        guard let i = adcNodes.firstIndex(where: { widgets[Int($0)].streamChannel >> 4 == tag }) else { return false }
        let node = adcNodes[i]
        let w = widgets[Int(node)]
        switch check(converter: w, format: format, blocks: blocks, bytes: data.count) {
        case .failure(let fault):
            record(FormatMismatch(node: node, isOutput: false, tag: tag, frame: frame, blocks: blocks,
                                  converterFormat: ConverterFormat(rawValue: w.format), streamFormat: format, fault: fault))
            if let base = data.baseAddress { base.initializeMemory(as: UInt8.self, repeating: 0, count: data.count) }
        case .success(let memory):
            let layout = PCMLayout(memoryOf: memory)
            if let source = sources[i] {
                _ = source.produce(into: data, blocks: blocks, format: memory)
                if layout.validBits != layout.containerBytes * 8 {
                    // Only the valid bits travel on the link.
                    PCMLayout.convert(UnsafeRawBufferPointer(data), from: layout, into: data, to: layout, blocks: blocks)
                }
            } else {
                layout.fillSilence(data, blocks: blocks)
            }
            blocksRecorded[i] += blocks
        }
        return true
    }
}
