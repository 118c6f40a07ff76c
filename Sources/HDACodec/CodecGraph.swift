/// A codec's widget graph: what a function driver learns by walking it with GET_PARAMETER
/// and GET_CONNECTION_LIST_ENTRY, or what a dump lists. It finds the paths from DACs to
/// pins and from pins to ADCs, and the default output and input paths Azalia's function
/// driver uses.
///
/// **Decisions**: the default output is the first pin (in node order) whose default device
/// is line out or speaker, then headphone, then any other output-capable pin; pins whose
/// port connectivity says "no physical connection" come after all connected ones. The
/// default input is the first line-in or microphone pin, then any other input-capable pin,
/// the unconnected ones last. A path goes through mixers and selectors only (at most 8
/// nodes), and the shortest one wins (the earlier connection entry on a tie).
public struct CodecGraph: Hashable, Sendable {
    /// One widget, as the graph needs it.
    public struct Widget: Hashable, Sendable {
        /// Node id.
        public var id: UInt8
        /// Audio widget capabilities.
        public var wcaps: UInt32
        /// Pin capabilities (pins).
        public var pinCaps: UInt32
        /// Configuration default (pins).
        public var configDefault: UInt32
        /// Connection list.
        public var connections: [UInt8]
        /// Input amp capabilities (0: none, or the function group's apply).
        public var ampInCaps: UInt32
        /// Output amp capabilities.
        public var ampOutCaps: UInt32

        /// A widget with its numbers.
        public init(id: UInt8, wcaps: UInt32, pinCaps: UInt32 = 0, configDefault: UInt32 = 0, connections: [UInt8] = [],
                    ampInCaps: UInt32 = 0, ampOutCaps: UInt32 = 0) {
            self.id = id
            self.wcaps = wcaps
            self.pinCaps = pinCaps
            self.configDefault = configDefault
            self.connections = connections
            self.ampInCaps = ampInCaps
            self.ampOutCaps = ampOutCaps
        }

        /// The widget type.
        public var type: CodecDump.WidgetType { CodecDump.WidgetType(rawValue: UInt8((wcaps >> 20) & 0xF)) ?? .vendor }
        /// True for a pin that can drive an output.
        public var isOutputPin: Bool { type == .pin && pinCaps & WidgetBits.pinOut != 0 }
        /// True for a pin that can take an input.
        public var isInputPin: Bool { type == .pin && pinCaps & WidgetBits.pinIn != 0 }
        /// True when the configuration default says the port is connected to something.
        public var isConnected: Bool { WidgetBits.portConnectivity(configDefault) != 1 }
    }

    /// A path: `nodes[i]` takes its signal from `nodes[i + 1]` (a connection list entry).
    /// An output path runs pin ... DAC; an input path runs ADC ... pin.
    public struct Path: Hashable, Sendable, Codable, CustomStringConvertible {
        /// The nodes, from the receiving end to the sending end.
        public var nodes: [UInt8]
        /// The converter (DAC or ADC) of the path.
        public var converter: UInt8
        /// The pin of the path.
        public var pin: UInt8

        /// `0x02 -> 0x0c -> 0x14`, in the direction the signal flows.
        public var description: String {
            let flow = nodes.first == pin ? Array(nodes.reversed()) : nodes.reversed()
            return flow.map { "0x" + String($0, radix: 16).leftPadded(2) }.joined(separator: " -> ")
        }
    }

    /// The widgets, in node order.
    public var widgets: [Widget]
    private var byID: [UInt8: Int]

    /// A graph of widgets.
    public init(widgets: [Widget]) {
        self.widgets = widgets.sorted { $0.id < $1.id }
        byID = [:]
        for (i, w) in self.widgets.enumerated() { byID[w.id] = i }
    }

    /// The graph of a dump.
    public init(dump: CodecDump) {
        self.init(widgets: dump.nodes.map {
            Widget(id: $0.id, wcaps: $0.wcaps, pinCaps: $0.pinCaps, configDefault: $0.configDefault, connections: $0.connections,
                   ampInCaps: $0.ampInCaps != 0 ? $0.ampInCaps : dump.defaultAmpInCaps,
                   ampOutCaps: $0.ampOutCaps != 0 ? $0.ampOutCaps : dump.defaultAmpOutCaps)
        })
    }

    /// The widget with an id.
    public func widget(_ id: UInt8) -> Widget? { byID[id].map { widgets[$0] } }

    /// The DACs, in node order.
    public var dacs: [UInt8] { widgets.filter { $0.type == .audioOutput }.map(\.id) }
    /// The ADCs, in node order.
    public var adcs: [UInt8] { widgets.filter { $0.type == .audioInput }.map(\.id) }

    /// The shortest path from `from` down connection lists to a node for which `isEnd`
    /// holds, through mixers and selectors only.
    func shortestPath(from: UInt8, to isEnd: (Widget) -> Bool) -> [UInt8]? {
        var queue: [[UInt8]] = [[from]]
        var seen: Set<UInt8> = [from]
        var head = 0
        while head < queue.count {
            let path = queue[head]
            head += 1
            guard let w = widget(path.last!), path.count <= 8 else { continue }
            for c in w.connections where !seen.contains(c) {
                guard let next = widget(c) else { continue }
                seen.insert(c)
                if isEnd(next) { return path + [c] }
                if next.type == .mixer || next.type == .selector { queue.append(path + [c]) }
            }
        }
        return nil
    }

    /// Every output path: for each output pin, the shortest path to each DAC it reaches.
    public var outputPaths: [Path] {
        widgets.filter(\.isOutputPin).flatMap { pin in
            dacs.compactMap { dac in
                shortestPath(from: pin.id) { $0.id == dac }.map { Path(nodes: $0, converter: dac, pin: pin.id) }
            }
        }
    }

    /// Every input path: for each ADC, the shortest path to each input pin it reaches.
    public var inputPaths: [Path] {
        adcs.flatMap { adc in
            widgets.filter(\.isInputPin).compactMap { pin in
                shortestPath(from: adc) { $0.id == pin.id }.map { Path(nodes: $0, converter: adc, pin: pin.id) }
            }
        }
    }

    /// Rank of an output pin for the default output (lower first).
    static func outputRank(_ w: Widget) -> Int {
        let device = WidgetBits.defaultDevice(w.configDefault)
        let base = device <= 1 ? 0 : device == 2 ? 1 : 2
        return w.isConnected ? base : 3 + base
    }

    /// Rank of an input pin for the default input.
    static func inputRank(_ w: Widget) -> Int {
        let device = WidgetBits.defaultDevice(w.configDefault)
        let base = device == 0x8 || device == 0xA ? 0 : 1
        return w.isConnected ? base : 2 + base
    }

    /// The output pins, best first for the default output: line out or speaker, headphone,
    /// the others; connected before unconnected; node order among equals.
    public var rankedOutputPins: [Widget] {
        widgets.filter(\.isOutputPin).enumerated()
            .sorted { (Self.outputRank($0.element), $0.offset) < (Self.outputRank($1.element), $1.offset) }.map(\.element)
    }

    /// The default output path (see the decisions above), or nil when no pin reaches a DAC.
    public var defaultOutput: Path? {
        for pin in rankedOutputPins {
            if let p = shortestPath(from: pin.id, to: { $0.type == .audioOutput }) {
                return Path(nodes: p, converter: p.last!, pin: pin.id)
            }
        }
        return nil
    }

    /// The default input path, or nil when no ADC reaches an input pin.
    public var defaultInput: Path? {
        let pins = widgets.filter(\.isInputPin).enumerated().sorted { (Self.inputRank($0.element), $0.offset) < (Self.inputRank($1.element), $1.offset) }
        for (_, pin) in pins {
            for adc in adcs {
                if let p = shortestPath(from: adc, to: { $0.id == pin.id }) { return Path(nodes: p, converter: adc, pin: pin.id) }
            }
        }
        return nil
    }
}
