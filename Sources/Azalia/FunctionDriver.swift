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

/// The widgets a function driver found by walking the codec's graph with verbs.
public struct CodecTopology: Hashable, Sendable {
    /// The codec address.
    public var address: UInt8
    /// Output converters (DACs), in node order.
    public var dacs: [UInt8]
    /// Input converters (ADCs), in node order.
    public var adcs: [UInt8]
    /// For each DAC, the output pin whose connection list names it (nil if none).
    public var outputPins: [UInt8: UInt8]
    /// For each ADC, the input pin its connection list names (nil if none).
    public var inputPins: [UInt8: UInt8]
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
    /// GET_CONNECTION_LIST_ENTRY, as a function driver does at start.
    public func discover() throws(FunctionDriverError) -> CodecTopology {
        let root = try parameter(0, .subordinateNodeCount)
        let firstGroup = UInt8(truncatingIfNeeded: root >> 16), groups = Int(root & 0xFF)
        var topology = CodecTopology(address: address, dacs: [], adcs: [], outputPins: [:], inputPins: [:])
        for g in 0..<groups {
            let group = firstGroup &+ UInt8(g)
            guard try parameter(group, .functionGroupType) & 0xFF == CodecBits.functionGroupAudio else { continue }
            let sub = try parameter(group, .subordinateNodeCount)
            let first = Int((sub >> 16) & 0xFF), count = Int(sub & 0xFF)
            var pins: [UInt8] = []
            for n in first..<min(256, first + count) {
                let node = UInt8(n)
                let caps = try parameter(node, .audioWidgetCapabilities)
                switch (caps >> CodecBits.widgetTypeShift) & 0xF {
                case CodecBits.widgetTypeAudioOutput: topology.dacs.append(node)
                case CodecBits.widgetTypeAudioInput:
                    topology.adcs.append(node)
                    if let c = try firstConnection(node) { topology.inputPins[node] = c }
                case CodecBits.widgetTypePin: pins.append(node)
                default: break
                }
            }
            for pin in pins {
                if let c = try firstConnection(pin), topology.dacs.contains(c), topology.outputPins[c] == nil {
                    topology.outputPins[c] = pin
                }
            }
            break
        }
        return topology
    }

    private func firstConnection(_ node: UInt8) throws(FunctionDriverError) -> UInt8? {
        let length = try parameter(node, .connectionListLength) & 0x7F
        guard length > 0 else { return nil }
        let entries = try send(CodecVerb(codec: address, node: node, verb: CodecVerb.getConnectionListEntry, payload: 0))
        return UInt8(entries & 0xFF)
    }

    /// Programs a converter for a stream: power D0, SET_CONVERTER_FORMAT with the converter
    /// format the bus returned (read back with GET_CONVERTER_FORMAT),
    /// SET_CONVERTER_STREAM_CHANNEL with the bus's stream id (channel 0), and the pin's
    /// widget control (OUT or IN enable).
    public func startConverter(_ node: UInt8, format: ConverterFormat, streamId: UInt8, pin: UInt8?, output: Bool) throws(FunctionDriverError) {
        try send(CodecVerb(codec: address, node: node, verb: CodecVerb.setPowerState, payload: 0))
        try send(.setFormat(codec: address, node: node, format))
        let read = try send(CodecVerb(codec: address, node: node, shortVerb: CodecVerb.getConverterFormat, payload: 0))
        guard read & 0xFFFF == UInt32(format.rawValue) else {
            throw .codecReadBack(node: node, wrote: UInt32(format.rawValue), read: read)
        }
        try send(.setStream(codec: address, node: node, tag: streamId, channel: 0))
        if let pin {
            try send(CodecVerb(codec: address, node: pin, verb: CodecVerb.setPowerState, payload: 0))
            let control = output ? CodecBits.pinControlOutEnable : CodecBits.pinControlInEnable
            try send(CodecVerb(codec: address, node: pin, verb: CodecVerb.setPinWidgetControl, payload: control))
        }
    }

    /// Stops a converter: stream 0 (no stream) and the pin's widget control cleared.
    public func stopConverter(_ node: UInt8, pin: UInt8?) throws(FunctionDriverError) {
        try send(.setStream(codec: address, node: node, tag: 0, channel: 0))
        if let pin { try send(CodecVerb(codec: address, node: pin, verb: CodecVerb.setPinWidgetControl, payload: 0)) }
    }
}
