import HDAudio

/// Verb ids a dump codec answers beyond those `CodecVerb` names (HD Audio specification
/// values, as Linux names them in hda_verbs.h).
enum DumpVerb {
    static let getProcessingState: UInt16 = 0xF03, setProcessingState: UInt16 = 0x703
    static let getSDISelect: UInt16 = 0xF04, setSDISelect: UInt16 = 0x704
    static let setPinSense: UInt16 = 0x709
    static let getEAPD: UInt16 = 0xF0C, setEAPD: UInt16 = 0x70C
    static let getDigital: UInt16 = 0xF0D, setDigital1: UInt16 = 0x70D, setDigital2: UInt16 = 0x70E
    static let setDigital3: UInt16 = 0x73E, setDigital4: UInt16 = 0x73F
    static let getVolumeKnob: UInt16 = 0xF0F, setVolumeKnob: UInt16 = 0x70F
    static let getGPIOData: UInt16 = 0xF15, setGPIOData: UInt16 = 0x715
    static let getGPIOMask: UInt16 = 0xF16, setGPIOMask: UInt16 = 0x716
    static let getGPIODirection: UInt16 = 0xF17, setGPIODirection: UInt16 = 0x717
    static let getGPIOWake: UInt16 = 0xF18, setGPIOWake: UInt16 = 0x718
    static let getGPIOUnsolicited: UInt16 = 0xF19, setGPIOUnsolicited: UInt16 = 0x719
    static let getGPIOSticky: UInt16 = 0xF1A, setGPIOSticky: UInt16 = 0x71A
    static let setConfigDefault0: UInt16 = 0x71C
    static let setSubsystem0: UInt16 = 0x720
    static let getDeviceSelect: UInt16 = 0xF35, setDeviceSelect: UInt16 = 0x735
    static let getDeviceList: UInt16 = 0xF36
    // 4-bit verbs (16-bit payload).
    static let setCoefficientIndex: UInt8 = 0x5, getCoefficientIndex: UInt8 = 0xD
    static let setCoefficient: UInt8 = 0x4, getCoefficient: UInt8 = 0xC
}

extension DumpCodec {
    /// Answers a verb; nil when it is for another codec address.
    public func linkCommand(_ raw: UInt32) -> UInt32? {
        let verb = CodecVerb(rawValue: raw)
        let response: UInt32? = verb.codecAddress == address ? answer(verb) : nil
        trace?(.verb(verb, response: response))
        return response
    }

    /// The answer to a parameter of a node (what GET_PARAMETER returns).
    public func parameter(_ id: UInt8, node: UInt8) -> UInt32 {
        if node == 0 { return rootParameter(id) }
        if node == afgNode && dump.afgFunctionType != nil { return groupParameter(id) }
        if let m = mfgNode, node == m {
            switch id {
            case CodecParameter.functionGroupType.rawValue: return dump.mfgFunctionType ?? 0
            case CodecParameter.vendorID.rawValue: return dump.vendorID
            case CodecParameter.subsystemID.rawValue: return subsystemID
            default: return 0
            }
        }
        guard let i = nodes[node] else { return 0 }
        let n = dump.nodes[i]
        guard let p = CodecParameter(rawValue: id) else { return id == 0x15 ? n.deviceListLength ?? 0 : 0 }
        switch p {
        case .audioWidgetCapabilities: return n.wcaps
        case .supportedPCMSizeRates: return n.pcm ?? 0
        case .supportedStreamFormats: return n.streamFormats ?? 0
        case .pinCapabilities: return n.pinCaps
        case .inputAmpCapabilities: return n.ampInCaps
        case .outputAmpCapabilities: return n.ampOutCaps
        case .connectionListLength: return connectionListLength(n)
        case .supportedPowerStates: return n.powerStates ?? 0
        case .processingCapabilities: return n.processingCaps ?? 0
        case .volumeKnobCapabilities: return n.volumeKnobCaps ?? 0
        default: return 0
        }
    }

    func rootParameter(_ id: UInt8) -> UInt32 {
        switch CodecParameter(rawValue: id) {
        case .vendorID: return dump.vendorID
        case .revisionID: return dump.revisionID
        case .subsystemID: return subsystemID
        case .subordinateNodeCount:
            let groups = [dump.afgFunctionType == nil ? nil : afgNode, mfgNode].compactMap { $0 }
            guard let first = groups.min() else { return 0 }
            return UInt32(first) << 16 | UInt32(groups.count)
        default: return 0
        }
    }

    func groupParameter(_ id: UInt8) -> UInt32 {
        switch CodecParameter(rawValue: id) {
        case .vendorID: return dump.vendorID
        case .subsystemID: return subsystemID
        case .revisionID: return dump.revisionID
        case .subordinateNodeCount:
            guard let first = dump.nodes.first, let last = dump.nodes.last else { return 0 }
            return UInt32(first.id) << 16 | (UInt32(last.id) - UInt32(first.id) + 1)
        case .functionGroupType: return dump.afgFunctionType ?? 0
        case .audioFunctionGroupCapabilities: return 0
        case .supportedPCMSizeRates: return dump.defaultPCM ?? 0
        case .supportedStreamFormats: return dump.defaultStreamFormats ?? 0
        case .inputAmpCapabilities: return dump.defaultAmpInCaps
        case .outputAmpCapabilities: return dump.defaultAmpOutCaps
        case .supportedPowerStates: return dump.afgPowerStates ?? 0
        case .gpioCount: return dump.gpioCapabilities ?? 0
        default: return 0
        }
    }

    /// Connection list length: the entries, and bit 7 (long form) when one is above 0x7f.
    func connectionListLength(_ n: CodecDump.Node) -> UInt32 {
        UInt32(n.connections.count) | (n.connections.contains { $0 > 0x7F } ? 0x80 : 0)
    }

    /// GET_CONNECTION_LIST_ENTRY: from the index given, four 8-bit entries (short form) or
    /// two 16-bit entries (long form).
    func connectionEntries(_ n: CodecDump.Node, from index: Int) -> UInt32 {
        let long = connectionListLength(n) & 0x80 != 0
        let per = long ? 2 : 4, width: UInt32 = long ? 16 : 8
        var r: UInt32 = 0
        for k in 0..<per where index + k < n.connections.count {
            r |= UInt32(n.connections[index + k]) << (width * UInt32(k))
        }
        return r
    }

    func answer(_ verb: CodecVerb) -> UInt32 {
        let node = verb.node
        if !verb.hasLongPayload, verb.verb == CodecVerb.getParameter { return parameter(verb.payload8, node: node) }
        if node == afgNode || node == mfgNode { return groupVerb(verb) }
        guard let i = nodes[node] else { return 0 }
        let n = dump.nodes[i]
        if verb.hasLongPayload { return longVerb(verb, node: n, index: i) }
        let payload = verb.payload8
        switch verb.verb {
        case CodecVerb.getConnectionListEntry:
            return connectionEntries(n, from: Int(payload))
        case CodecVerb.getConnectionSelect:
            return UInt32(state[i].connectionSelect)
        case CodecVerb.setConnectionSelect:
            if Int(payload) < n.connections.count { state[i].connectionSelect = payload; routeCacheValid = false }
        case CodecVerb.getPowerState:
            return state[i].power
        case CodecVerb.setPowerState:
            state[i].power = UInt32(payload & 0xF) * 0x11
        case CodecVerb.getConverterStreamChannel:
            return UInt32(state[i].streamChannel)
        case CodecVerb.setConverterStreamChannel:
            state[i].streamChannel = payload
        case CodecVerb.getPinWidgetControl:
            return UInt32(state[i].pinControl)
        case CodecVerb.setPinWidgetControl:
            state[i].pinControl = payload
            routeCacheValid = false
        case CodecVerb.getUnsolicitedEnable:
            return UInt32(state[i].unsolicited)
        case CodecVerb.setUnsolicitedEnable:
            state[i].unsolicited = payload & (CodecBits.unsolicitedEnable | CodecBits.unsolicitedTagMask)
        case CodecVerb.getPinSense:
            return state[i].present ? CodecBits.pinSensePresence | (n.pinCaps & 0x0900_0000 != 0 ? 1 << 30 : 0) : 0
        case DumpVerb.setPinSense:
            break
        case CodecVerb.getConfigDefault:
            return state[i].configDefault
        case DumpVerb.setConfigDefault0...(DumpVerb.setConfigDefault0 + 3):
            state[i].configDefault = Self.replacingByte(state[i].configDefault, Int(verb.verb - DumpVerb.setConfigDefault0), payload)
        case DumpVerb.getEAPD:
            return UInt32(state[i].eapd)
        case DumpVerb.setEAPD:
            state[i].eapd = payload & 0x7
        case DumpVerb.getSDISelect:
            return UInt32(state[i].sdiSelect)
        case DumpVerb.setSDISelect:
            state[i].sdiSelect = payload & 0xF
        case DumpVerb.getDigital:
            return state[i].digital
        case DumpVerb.setDigital1, DumpVerb.setDigital2, DumpVerb.setDigital3:
            let byte = verb.verb == DumpVerb.setDigital1 ? 0 : verb.verb == DumpVerb.setDigital2 ? 1 : 2
            state[i].digital = Self.replacingByte(state[i].digital, byte, payload)
        case DumpVerb.getVolumeKnob:
            return UInt32(state[i].volumeKnob)
        case DumpVerb.setVolumeKnob:
            state[i].volumeKnob = payload
        case DumpVerb.getDeviceSelect:
            return UInt32(state[i].deviceSelect)
        case DumpVerb.setDeviceSelect:
            state[i].deviceSelect = payload & 0x3F
        case DumpVerb.getDeviceList:
            var r: UInt32 = 0
            for k in 0..<4 where Int(payload) + k < n.state.devices.count {
                r |= UInt32(n.state.devices[Int(payload) + k]) << (8 * UInt32(k))
            }
            return r
        default:
            return vendorVerb(verb, state: &state[i])
        }
        return 0
    }

    /// `value` with byte `index` (0 = bits 7:0) replaced by `byte`, as the byte-wise set verbs write.
    static func replacingByte(_ value: UInt32, _ index: Int, _ byte: UInt8) -> UInt32 {
        let shift = UInt32(index) * 8
        return value & ~(0xFF << shift) | UInt32(byte) << shift
    }

    /// A 12-bit verb the specification leaves to vendors: a set (0x7xx) is stored, the get
    /// (0xFxx) with the same low byte answers it.
    func vendorVerb(_ verb: CodecVerb, state s: inout NodeState) -> UInt32 {
        let v = verb.verb
        if v & 0xF00 == 0x700 { s.vendor[v & 0xFF] = verb.payload8; return 0 }
        if v & 0xF00 == 0xF00 { return UInt32(s.vendor[v & 0xFF] ?? 0) }
        return 0
    }

    /// The verbs of a function group node: subsystem id, GPIO, power, unsolicited, reset.
    func groupVerb(_ verb: CodecVerb) -> UInt32 {
        guard !verb.hasLongPayload else { return 0 }
        let p = verb.payload8
        switch verb.verb {
        case CodecVerb.getSubsystemID: return subsystemID
        case DumpVerb.setSubsystem0...(DumpVerb.setSubsystem0 + 3):
            subsystemID = Self.replacingByte(subsystemID, Int(verb.verb - DumpVerb.setSubsystem0), p)
        case CodecVerb.getPowerState: return groupState.power
        case CodecVerb.setPowerState: groupState.power = UInt32(p & 0xF) * 0x11
        case CodecVerb.getUnsolicitedEnable: return UInt32(groupState.unsolicited)
        case CodecVerb.setUnsolicitedEnable: groupState.unsolicited = p & (CodecBits.unsolicitedEnable | CodecBits.unsolicitedTagMask)
        case DumpVerb.getGPIOData: return UInt32(gpio.data)
        case DumpVerb.setGPIOData: gpio.data = p
        case DumpVerb.getGPIOMask: return UInt32(gpio.enable)
        case DumpVerb.setGPIOMask: gpio.enable = p
        case DumpVerb.getGPIODirection: return UInt32(gpio.direction)
        case DumpVerb.setGPIODirection: gpio.direction = p
        case DumpVerb.getGPIOWake: return UInt32(gpio.wake)
        case DumpVerb.setGPIOWake: gpio.wake = p
        case DumpVerb.getGPIOUnsolicited: return UInt32(gpio.unsolicited)
        case DumpVerb.setGPIOUnsolicited: gpio.unsolicited = p
        case DumpVerb.getGPIOSticky: return UInt32(gpio.sticky)
        case DumpVerb.setGPIOSticky: gpio.sticky = p
        case CodecVerb.functionReset:
            let present = state.map(\.present)
            resetState()
            for (k, v) in present.enumerated() { state[k].present = v }
        default:
            return vendorVerb(verb, state: &groupState)
        }
        return 0
    }

    /// The 16-bit-payload verbs: converter format, amp gain/mute, coefficients.
    func longVerb(_ verb: CodecVerb, node n: CodecDump.Node, index i: Int) -> UInt32 {
        let payload = verb.payload16
        switch verb.shortVerb {
        case CodecVerb.setConverterFormat:
            if n.type == .audioOutput || n.type == .audioInput { state[i].format = payload }
        case CodecVerb.getConverterFormat:
            return n.type == .audioOutput || n.type == .audioInput ? UInt32(state[i].format) : 0
        case CodecVerb.setAmpGainMute:
            setAmp(payload, node: n, index: i)
        case CodecVerb.getAmpGainMute:
            let output = payload & 0x8000 != 0, left = payload & 0x2000 != 0, k = Int(payload & 0xF)
            let side = left ? 0 : 1
            if output { return n.wcaps & WidgetBits.outAmp != 0 ? UInt32(state[i].ampOut[side]) : 0 }
            guard n.wcaps & WidgetBits.inAmp != 0, k < state[i].ampIn.count else { return 0 }
            return UInt32(state[i].ampIn[k][side])
        case DumpVerb.setCoefficientIndex:
            state[i].coefficientIndex = payload
        case DumpVerb.getCoefficientIndex:
            return UInt32(state[i].coefficientIndex)
        case DumpVerb.setCoefficient:
            state[i].coefficients[state[i].coefficientIndex] = payload
        case DumpVerb.getCoefficient:
            return UInt32(state[i].coefficients[state[i].coefficientIndex] ?? 0)
        default:
            break
        }
        return 0
    }

    /// SET_AMP_GAIN_MUTE: bit 15 output, 14 input, 13 left, 12 right, 11:8 index, 7 mute,
    /// 6:0 gain (clamped to the amp's steps).
    func setAmp(_ payload: UInt16, node n: CodecDump.Node, index i: Int) {
        let output = payload & 0x8000 != 0, input = payload & 0x4000 != 0
        let left = payload & 0x2000 != 0, right = payload & 0x1000 != 0
        let k = Int((payload >> 8) & 0xF)
        func value(_ caps: UInt32) -> UInt8 {
            let steps = UInt16((caps >> 8) & 0x7F)
            let mute: UInt8 = caps >> 31 != 0 ? UInt8(payload & 0x80) : 0
            return mute | UInt8(min(payload & 0x7F, steps))
        }
        if output, n.wcaps & WidgetBits.outAmp != 0 {
            let v = value(n.ampOutCaps != 0 ? n.ampOutCaps : dump.defaultAmpOutCaps)
            if left { state[i].ampOut[0] = v }
            if right { state[i].ampOut[1] = v }
        }
        if input, n.wcaps & WidgetBits.inAmp != 0, k < state[i].ampIn.count {
            let v = value(n.ampInCaps != 0 ? n.ampInCaps : dump.defaultAmpInCaps)
            if left { state[i].ampIn[k][0] = v }
            if right { state[i].ampIn[k][1] = v }
        }
        routeCacheValid = false
    }
}
