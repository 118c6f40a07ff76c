public import HDAudio

/// A codec that answers every verb as the real chip of a `CodecDump` would, with audio
/// flowing through it: DACs play and ADCs record their streams, pins take Azalia's sinks
/// and sources, and jacks can be plugged and unplugged.
///
/// **What the dump says** is answered as the dump says it: vendor, subsystem and revision
/// ids, subordinate node counts, function group types, widget, pin, amp, PCM, stream format,
/// power state, processing, GPIO, volume knob and device list parameters, the connection
/// lists (short form, or long form when an entry is above 0x7f), configuration defaults.
///
/// **Decisions** (what a dump cannot say):
/// - The audio function group is the node `State of AFG node` names, else node 0x01; a
///   modem function group is the node `Modem Function Group` names, else the next one.
/// - The audio function group capabilities parameter (not printed by Linux) is 0.
/// - State starts at the specification's reset values, not at what Linux left (unless
///   `startFromDump` is set): converters stopped with format 0, pins disabled, connection
///   select 0, power D0, unsolicited responses, EAPD, GPIO and digital controls 0, amps muted
///   (where they can mute) at their 0 dB step (the offset). Function group reset and link
///   reset return to these values; configuration default and subsystem id, set byte by
///   byte, keep what was set (they model the BIOS's programming).
/// - Vendor verbs (any 12-bit verb 0x7xx / 0xFxx the specification does not define, such as
///   Realtek's through node 0x20) are accepted and stored per node: a get (0xFxx) answers
///   what the matching set (0x7xx) last wrote, 0 before. Processing coefficients: the
///   coefficient index and each coefficient read back what was written, 0 before; the index
///   does not advance by itself.
/// - Amp gains are stored (clamped to the amp's steps) and read back but do not scale the
///   samples; mute does stop them. A path delivers samples only when every node on it lets
///   them through: the pin enabled (OUT or IN), the selected connection, a mixer input not
///   muted (a mixer passes its first unmuted input that leads to a converter; sums are not
///   modelled), no output amp muted. Power states are stored and read back (actual =
///   setting) and do not gate the audio.
/// - A converter plays or records the channels `offset ..< offset + its channel count` of
///   its stream (offset: SET_CONVERTER_STREAM_CHANNEL bits 3:0). It takes a packet only
///   when its format equals the stream's and its PCM parameters (or the function group's,
///   without format override) list the rate and size; otherwise the packet is refused and
///   recorded as a `FormatMismatch`.
/// - Verbs for another codec address get no answer; verbs for nodes the dump lacks answer 0.
public final class DumpCodec: LinkCodec {
    /// The dump the codec answers from.
    public let dump: CodecDump
    /// The codec address (SDI line) it answers to.
    public let address: UInt8
    /// The widget graph of the dump.
    public let graph: CodecGraph
    /// The audio function group's node.
    public let afgNode: UInt8
    /// The modem function group's node, if the dump has one.
    public let mfgNode: UInt8?

    struct NodeState {
        var format: UInt16 = 0
        var streamChannel: UInt8 = 0
        var pinControl: UInt8 = 0
        /// GET_POWER_STATE's answer (setting 3:0, actual 7:4, flags).
        var power: UInt32 = 0
        var unsolicited: UInt8 = 0
        var connectionSelect: UInt8 = 0
        var eapd: UInt8 = 0
        var sdiSelect: UInt8 = 0
        var digital: UInt32 = 0
        var volumeKnob: UInt8 = 0
        var deviceSelect: UInt8 = 0
        /// [index] -> [left, right].
        var ampIn: [[UInt8]] = []
        var ampOut: [UInt8] = [0, 0]
        var configDefault: UInt32 = 0
        var coefficientIndex: UInt16 = 0
        var coefficients: [UInt16: UInt16] = [:]
        var vendor: [UInt16: UInt8] = [:]
        var present = false
    }

    var nodes: [UInt8: Int] = [:]
    var state: [NodeState] = []
    var groupState = NodeState()
    var gpio = CodecDump.GPIOState()
    var subsystemID: UInt32
    var sinks: [UInt8: any SampleSink] = [:]
    var sources: [UInt8: any SampleSource] = [:]
    var unsolicitedQueue = UnsolicitedQueue()
    var scratch: [UInt8] = []
    var routeCache: [UInt8: UInt8] = [:]
    var routeCacheValid = false

    /// Packets refused by a converter, in total.
    public internal(set) var formatMismatchCount = 0
    /// The first `mismatchLogLimit` refused packets.
    public internal(set) var formatMismatches: [FormatMismatch] = []
    /// How many refused packets `formatMismatches` keeps.
    public var mismatchLogLimit = 256
    /// Blocks each DAC has played, by node.
    public internal(set) var blocksPlayed: [UInt8: Int] = [:]
    /// Blocks each ADC has recorded, by node.
    public internal(set) var blocksRecorded: [UInt8: Int] = [:]
    /// Unsolicited events dropped because the pin's unsolicited responses were disabled.
    public internal(set) var unsolicitedDropped = 0
    /// Called for every verb, refused packet and unsolicited response (for traces).
    public var trace: ((CodecTraceEvent) -> Void)?

    /// A codec answering as `dump`'s chip, at `address` (the dump's own by default). With
    /// `startFromDump`, the state fields start as Linux left them instead of at reset.
    public init(dump: CodecDump, address: UInt8? = nil, startFromDump: Bool = false) {
        self.dump = dump
        self.address = (address ?? dump.address) & 0xF
        graph = CodecGraph(dump: dump)
        afgNode = dump.functionGroupNode
        mfgNode = dump.mfgFunctionType == nil ? nil : (dump.mfgNode ?? (dump.afgFunctionType == nil ? 1 : dump.functionGroupNode + 1))
        subsystemID = dump.subsystemID
        for (i, n) in dump.nodes.enumerated() { nodes[n.id] = i }
        resetState()
        for (i, n) in dump.nodes.enumerated() { state[i].configDefault = n.configDefault }
        if startFromDump { loadDumpState() }
    }

    /// Every node's controls at their reset values (configuration defaults kept).
    func resetState() {
        let configs = state.map(\.configDefault)
        state = dump.nodes.map { n in
            var s = NodeState()
            let inMute: UInt8 = n.ampInCaps >> 31 != 0 ? 0x80 : 0
            let outMute: UInt8 = n.ampOutCaps >> 31 != 0 ? 0x80 : 0
            let inEntries = max(1, n.connections.count)
            s.ampIn = Array(repeating: Array(repeating: inMute | UInt8(n.ampInCaps & 0x7F), count: 2), count: inEntries)
            s.ampOut = Array(repeating: outMute | UInt8(n.ampOutCaps & 0x7F), count: 2)
            return s
        }
        for (i, c) in configs.enumerated() where i < state.count { state[i].configDefault = c }
        let present = groupState.present
        groupState = NodeState()
        groupState.present = present
        gpio = CodecDump.GPIOState()
        routeCacheValid = false
    }

    /// The state fields as the dump recorded them.
    func loadDumpState() {
        for (i, n) in dump.nodes.enumerated() {
            let d = n.state
            var s = state[i]
            s.streamChannel = d.streamChannel
            s.pinControl = d.pinControl
            s.power = d.power
            s.unsolicited = d.unsolicited
            s.connectionSelect = d.connectionSelect
            s.eapd = d.eapd
            s.sdiSelect = d.sdiSelect
            s.digital = d.digital
            s.volumeKnob = d.volumeKnob
            s.deviceSelect = d.deviceSelect
            for (k, v) in d.ampIn.enumerated() where k < s.ampIn.count {
                s.ampIn[k] = v.count == 2 ? v : [v[0], v[0]]
            }
            if !d.ampOut.isEmpty { s.ampOut = d.ampOut.count == 2 ? d.ampOut : [d.ampOut[0], d.ampOut[0]] }
            state[i] = s
        }
        if let p = dump.afgPower { groupState.power = p }
        gpio = dump.gpioState
        routeCacheValid = false
    }

    // MARK: Wiring

    /// Connects a pin to a sink (what an output pin plays goes there), or disconnects it with
    /// nil. False when the node is not an output-capable pin.
    @discardableResult
    public func setSink(_ sink: (any SampleSink)?, pin: UInt8) -> Bool {
        guard graph.widget(pin)?.isOutputPin == true else { return false }
        sinks[pin] = sink
        routeCacheValid = false
        return true
    }

    /// Connects a pin to a source (what an input pin hears), or disconnects it with nil.
    /// False when the node is not an input-capable pin.
    @discardableResult
    public func setSource(_ source: (any SampleSource)?, pin: UInt8) -> Bool {
        guard graph.widget(pin)?.isInputPin == true else { return false }
        sources[pin] = source
        return true
    }

    // MARK: Jacks and unsolicited responses

    /// Sets a pin's jack presence (GET_PIN_SENSE bit 31); a change raises an unsolicited
    /// response from the pin when it has them enabled. Returns true when one was queued.
    @discardableResult
    public func setJackPresence(pin: UInt8, present: Bool) -> Bool {
        guard let i = nodes[pin], graph.widget(pin)?.type == .pin, state[i].present != present else { return false }
        state[i].present = present
        let u = state[i].unsolicited
        guard u & CodecBits.unsolicitedEnable != 0 else { unsolicitedDropped += 1; return false }
        let response = UInt32(u & CodecBits.unsolicitedTagMask) << CodecBits.unsolicitedTagShift
        unsolicitedQueue.append(response)
        trace?(.unsolicited(node: pin, response: response))
        return true
    }

    /// A pin's jack presence, or nil for no such pin.
    public func jackPresence(pin: UInt8) -> Bool? {
        guard let i = nodes[pin], graph.widget(pin)?.type == .pin else { return nil }
        return state[i].present
    }

    /// Unsolicited responses waiting to be polled.
    public var pendingUnsolicited: Int { unsolicitedQueue.pending }

    /// The next queued unsolicited response, each returned once.
    public func linkPollUnsolicited() -> UInt32? {
        unsolicitedQueue.poll()
    }

    /// CRST: every control returns to its reset value and queued unsolicited responses are
    /// dropped; sinks, sources and jack presence (the outside world) stay.
    public func linkReset() {
        let present = state.map(\.present)
        resetState()
        for (i, p) in present.enumerated() { state[i].present = p }
        unsolicitedQueue.removeAll()
    }
}
