public import HDAudio

/// What a test or a driver tool can see and poke: converter state, unsolicited responses,
/// jack presence, and the link reset.
extension VirtualCodec {

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
    public var pendingUnsolicited: Int { unsolicitedQueue.pending }

    func widget(_ node: UInt8) -> Widget? {
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
        unsolicitedQueue.poll()
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
    }
}
