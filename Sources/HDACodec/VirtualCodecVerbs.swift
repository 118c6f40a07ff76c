import HDAudio

/// Verbs: the answer to every verb, the function group reset and the parameters.
extension VirtualCodec {

    /// Answers a verb (see `CodecVerb` for the encoding); nil when it is for another address.
    public func linkCommand(_ raw: UInt32) -> UInt32? {
        let verb = CodecVerb(rawValue: raw)
        let response: UInt32? = verb.codecAddress == address ? answer(verb) : nil
        trace?(.verb(verb, response: response))
        return response
    }

    func answer(_ verb: CodecVerb) -> UInt32 {
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
    func resetFunctionGroup() {
        let queue = unsolicitedQueue
        linkReset()
        unsolicitedQueue = queue
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
    func converterCapabilities(output: Bool) -> UInt32 {
        let count = UInt32(max(1, min(16, configuration.maxChannels))) - 1
        var caps = (output ? CodecBits.widgetTypeAudioOutput : CodecBits.widgetTypeAudioInput) << CodecBits.widgetTypeShift
        caps |= (count >> 1) << CodecBits.widgetChannelCountExtShift | (count & 1)
        caps |= CodecBits.widgetFormatOverride | CodecBits.widgetPowerControl
        if !output { caps |= CodecBits.widgetConnectionList }
        return caps
    }

    func parameter(_ id: UInt8, of w: Widget, node: UInt8) -> UInt32 {
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
}
