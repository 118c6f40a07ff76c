public import HDACodec
public import HDAudio
public import HDAudioBus

/// Sends codec verbs and returns their responses: the one seam between a function
/// driver and the path its verbs take to the codec.
///
/// `BusVerbSender` sends verbs as a function driver does, through the bus's
/// TransferCodecVerbs (CORB out, RIRB back); `DirectVerbSender` hands each verb straight
/// to the codec's `linkCommand`, bypassing the command path (for comparisons and tools).
public protocol CodecVerbSender: Sendable {
    /// Sends one verb (bits 31:28 codec address, 27:20 node, 19:0 verb and payload);
    /// returns the response, or nil when no codec answered. A DDI refusal throws its status.
    func send(_ verb: UInt32) throws(NTStatus) -> UInt32?
}

/// Sends verbs through an interface's TransferCodecVerbs (synchronous, PASSIVE_LEVEL):
/// each verb goes out on the CORB and its response comes back on the RIRB.
public struct BusVerbSender: CodecVerbSender {
    /// The interface whose codec the verbs go to.
    public let interface: any HDAudioBusInterface
    /// Called after each transfer with the verb and its response (for traces).
    public let observer: (@Sendable (CodecTransfer) -> Void)?

    /// A sender over an open interface.
    public init(interface: any HDAudioBusInterface, observer: (@Sendable (CodecTransfer) -> Void)? = nil) {
        self.interface = interface
        self.observer = observer
    }

    /// One TransferCodecVerbs call with one transfer; nil when the response is not valid.
    public func send(_ verb: UInt32) throws(NTStatus) -> UInt32? {
        let done = try interface.transferCodecVerbs([CodecTransfer(verb: verb)])
        guard let t = done.first else { return nil }
        observer?(t)
        return t.input.isValid ? t.input.response : nil
    }
}

/// Sends verbs straight to the codec attached at the verb's address, through its
/// `linkCommand`, under the platform's controller lock.
public struct DirectVerbSender: CodecVerbSender {
    /// The platform whose controller holds the codecs.
    public let platform: VirtualPlatform

    /// A sender over a platform.
    public init(platform: VirtualPlatform) { self.platform = platform }

    /// Hands the verb to the codec at its address; nil when none is attached there.
    public func send(_ verb: UInt32) -> UInt32? {
        platform.withController { controller -> UInt32? in
            controller.codec(at: Int(CorbEntry.codecAddress.extract(verb)))?.linkCommand(verb)
        }
    }
}

/// Why the function driver could not do what it was asked.
public enum FunctionDriverError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A DDI routine refused: its hdaudio.h name and the status it returned.
    case ddi(routine: String, status: NTStatus)
    /// The codec at the address did not answer a verb.
    case codecSilent(address: Int, verb: UInt32)
    /// The codec has no converter or pin of the kind needed.
    case codecLacks(String)
    /// The converter did not read back what was programmed.
    case codecReadBack(node: UInt8, wrote: UInt32, read: UInt32)

    /// The reason in words.
    public var description: String {
        switch self {
        case .ddi(let routine, let status): "\(routine) failed: \(status)"
        case .codecSilent(let address, let verb): "the codec at address \(address) did not answer verb \(hex(verb))"
        case .codecLacks(let what): "the codec has no \(what)"
        case .codecReadBack(let node, let wrote, let read):
            "codec node \(node) read back \(hex(read)) after \(hex(wrote)) was written"
        }
    }

    private func hex(_ v: UInt32) -> String { v.hexLiteral(digits: 1) }
}

/// What a function driver found by walking the codec's graph with verbs: the widgets and
/// the output and input paths it will use (see `CodecGraph` for how they are chosen).
public struct CodecTopology: Hashable, Sendable {
    /// The codec address.
    public var address: UInt8
    /// The audio function group's widgets, as the codec answered.
    public var graph: CodecGraph
    /// The output path (pin ... DAC), nil when no output pin reaches a DAC.
    public var output: CodecGraph.Path?
    /// The input path (ADC ... pin), nil when no ADC reaches an input pin.
    public var input: CodecGraph.Path?

    /// Output converters (DACs), in node order.
    public var dacs: [UInt8] { graph.dacs }
    /// Input converters (ADCs), in node order.
    public var adcs: [UInt8] { graph.adcs }
}

/// A function driver's view of one codec: discovers its widgets and programs converters
/// and pins through a `CodecVerbSender`, as a driver does after the bus returns a stream
/// id and converter format.
public struct CodecProgrammer: Sendable {
    /// Where the verbs go.
    public let sender: any CodecVerbSender
    /// The codec address (0 to 14).
    public let address: UInt8

    /// A programmer for the codec at `address`.
    public init(sender: any CodecVerbSender, address: UInt8) {
        self.sender = sender
        self.address = address
    }

    /// Sends a verb and requires an answer.
    @discardableResult
    public func send(_ verb: CodecVerb) throws(FunctionDriverError) -> UInt32 {
        let answer: UInt32?
        do { answer = try sender.send(verb.rawValue) } catch { throw .ddi(routine: "TransferCodecVerbs", status: error) }
        guard let r = answer else { throw .codecSilent(address: Int(address), verb: verb.rawValue) }
        return r
    }

    private func parameter(_ node: UInt8, _ p: CodecParameter) throws(FunctionDriverError) -> UInt32 {
        try send(.getParameter(codec: address, node: node, p))
    }

    /// Walks root -> audio function group -> widgets with GET_PARAMETER and
    /// GET_CONNECTION_LIST_ENTRY, as a function driver does at start: every widget's
    /// capabilities, and for pins their capabilities and default configuration, amp
    /// capabilities (the function group's where a widget has no amp override) and the
    /// whole connection list (short or long form). Then picks the output and input paths.
    public func discover() throws(FunctionDriverError) -> CodecTopology {
        let root = try parameter(0, .subordinateNodeCount)
        let firstGroup = UInt8(truncatingIfNeeded: root >> 16), groups = Int(root & 0xFF)
        var widgets: [CodecGraph.Widget] = []
        for g in 0..<groups {
            let group = firstGroup &+ UInt8(g)
            guard try parameter(group, .functionGroupType) & 0xFF == CodecBits.functionGroupAudio else { continue }
            let defaultIn = try parameter(group, .inputAmpCapabilities), defaultOut = try parameter(group, .outputAmpCapabilities)
            let sub = try parameter(group, .subordinateNodeCount)
            let first = Int((sub >> 16) & 0xFF), count = Int(sub & 0xFF)
            for n in first..<min(256, first + count) {
                let node = UInt8(n)
                let caps = try parameter(node, .audioWidgetCapabilities)
                var w = CodecGraph.Widget(id: node, wcaps: caps)
                if w.type == .pin {
                    w.pinCaps = try parameter(node, .pinCapabilities)
                    w.configDefault = try send(CodecVerb(codec: address, node: node, verb: CodecVerb.getConfigDefault))
                }
                let override = caps & WidgetBits.ampOverride != 0
                if caps & WidgetBits.inAmp != 0 { w.ampInCaps = override ? try parameter(node, .inputAmpCapabilities) : defaultIn }
                if caps & WidgetBits.outAmp != 0 { w.ampOutCaps = override ? try parameter(node, .outputAmpCapabilities) : defaultOut }
                if caps & WidgetBits.connectionList != 0 { w.connections = try connectionList(node) }
                widgets.append(w)
            }
            break
        }
        let graph = CodecGraph(widgets: widgets)
        return CodecTopology(address: address, graph: graph, output: graph.defaultOutput, input: graph.defaultInput)
    }

    /// The whole connection list of a node, read four (short form) or two (long form) entries at a time.
    private func connectionList(_ node: UInt8) throws(FunctionDriverError) -> [UInt8] {
        let length = try parameter(node, .connectionListLength)
        let count = Int(length & 0x7F), long = length & 0x80 != 0
        var list: [UInt8] = []
        var k = 0
        while k < count {
            let entries = try send(CodecVerb(codec: address, node: node, verb: CodecVerb.getConnectionListEntry, payload: UInt8(k)))
            for j in 0..<(long ? 2 : 4) where k + j < count {
                list.append(UInt8(truncatingIfNeeded: entries >> (UInt32(j) * (long ? 16 : 8))))
            }
            k += long ? 2 : 4
        }
        return list
    }

    /// Opens a path for the signal: every node on it powered (D0); each node selects (or, a
    /// mixer, unmutes the input of) the entry the path takes; input amps on the path and
    /// every output amp unmuted at 0 dB (the amp's offset); the pin's widget control (OUT,
    /// or IN) and, where the pin has one, its external amplifier (EAPD) on.
    public func openPath(_ path: CodecGraph.Path, in graph: CodecGraph, output: Bool) throws(FunctionDriverError) {
        for (i, node) in path.nodes.enumerated() {
            guard let w = graph.widget(node) else { continue }
            if w.wcaps & WidgetBits.powerControl != 0 {
                try send(CodecVerb(codec: address, node: node, verb: CodecVerb.setPowerState, payload: 0))
            }
            if i + 1 < path.nodes.count, let k = w.connections.firstIndex(of: path.nodes[i + 1]) {
                if w.type != .mixer, w.connections.count > 1 {
                    try send(CodecVerb(codec: address, node: node, verb: CodecVerb.setConnectionSelect, payload: UInt8(k)))
                }
                if w.wcaps & WidgetBits.inAmp != 0 { try unmute(node, output: false, index: k, caps: w.ampInCaps) }
            } else if w.wcaps & WidgetBits.inAmp != 0, w.type == .pin {
                try unmute(node, output: false, index: 0, caps: w.ampInCaps)
            }
            if w.wcaps & WidgetBits.outAmp != 0 { try unmute(node, output: true, index: 0, caps: w.ampOutCaps) }
        }
        guard let pin = graph.widget(path.pin) else { return }
        let control = output ? CodecBits.pinControlOutEnable : CodecBits.pinControlInEnable
        try send(CodecVerb(codec: address, node: pin.id, verb: CodecVerb.setPinWidgetControl, payload: control))
        if output, pin.pinCaps & WidgetBits.pinEAPD != 0 {
            try send(CodecVerb(codec: address, node: pin.id, verb: CodecProgrammer.setEAPD, payload: 0x02))
        }
    }

    /// SET_EAPD_BTLENABLE (0x70C); payload bit 1 turns the external amplifier on.
    public static let setEAPD: UInt16 = 0x70C

    /// SET_AMP_GAIN_MUTE of both channels of one amp: not muted, gain at the 0 dB step.
    private func unmute(_ node: UInt8, output: Bool, index: Int, caps: UInt32) throws(FunctionDriverError) {
        let payload = UInt16(output ? 0x8000 : 0x4000) | 0x3000 | UInt16(index & 0xF) << 8 | UInt16(caps & 0x7F)
        try send(CodecVerb(codec: address, node: node, shortVerb: CodecVerb.setAmpGainMute, payload: payload))
    }

    /// Programs a converter for a stream: power D0, SET_CONVERTER_FORMAT with the converter
    /// format the bus returned (read back with GET_CONVERTER_FORMAT),
    /// SET_CONVERTER_STREAM_CHANNEL with the bus's stream id (channel 0), then opens the
    /// path from the converter to its pin (`openPath`).
    public func startConverter(_ node: UInt8, format: ConverterFormat, streamId: UInt8, path: CodecGraph.Path?,
                               in graph: CodecGraph, output: Bool) throws(FunctionDriverError) {
        try send(CodecVerb(codec: address, node: node, verb: CodecVerb.setPowerState, payload: 0))
        try send(.setFormat(codec: address, node: node, format))
        let read = try send(CodecVerb(codec: address, node: node, shortVerb: CodecVerb.getConverterFormat, payload: 0))
        guard read & 0xFFFF == UInt32(format.rawValue) else {
            throw .codecReadBack(node: node, wrote: UInt32(format.rawValue), read: read)
        }
        try send(.setStream(codec: address, node: node, tag: streamId, channel: 0))
        if let path { try openPath(path, in: graph, output: output) }
    }

    /// Stops a converter: stream 0 (no stream) and the pin's widget control cleared.
    public func stopConverter(_ node: UInt8, pin: UInt8?) throws(FunctionDriverError) {
        try send(.setStream(codec: address, node: node, tag: 0, channel: 0))
        if let pin { try send(CodecVerb(codec: address, node: pin, verb: CodecVerb.setPinWidgetControl, payload: 0)) }
    }
}
