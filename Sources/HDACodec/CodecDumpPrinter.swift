public import HDAudio

/// Prints a codec in the `/proc/asound/cardN/codec#M` format by asking it with verbs, as
/// Linux does: every number comes from the codec's answers. The codec's name and the
/// lines Linux adds about its own controls (and vendors' extra lines) are not in any verb:
/// they come from the dump the codec was built from, when given.
public struct CodecDumpPrinter {
    /// Sends one verb and returns the answer (0 when there is none).
    let ask: (UInt32) -> UInt32
    let address: UInt8
    let dump: CodecDump?

    /// A printer over any codec on the link.
    public init(codec: any LinkCodec, address: UInt8, dump: CodecDump? = nil) {
        ask = { codec.linkCommand($0) ?? 0 }
        self.address = address
        self.dump = dump
    }

    func param(_ node: UInt8, _ p: UInt8) -> UInt32 {
        ask(CodecVerb(codec: address, node: node, verb: CodecVerb.getParameter, payload: p).rawValue)
    }

    func get(_ node: UInt8, _ verb: UInt16, _ payload: UInt8 = 0) -> UInt32 {
        ask(CodecVerb(codec: address, node: node, verb: verb, payload: payload).rawValue)
    }

    func amp(_ node: UInt8, output: Bool, left: Bool, index: Int) -> UInt32 {
        let payload = UInt16(output ? 0x8000 : 0) | UInt16(left ? 0x2000 : 0) | UInt16(index & 0xF)
        return ask(CodecVerb(codec: address, node: node, shortVerb: CodecVerb.getAmpGainMute, payload: payload).rawValue)
    }

    static func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }
    static func hex2(_ v: UInt32) -> String { "0x" + String(v, radix: 16).leftPadded(2) }
    static func hex8(_ v: UInt32) -> String { "0x" + String(v, radix: 16).leftPadded(8) }

    /// The text, one line per element.
    public func lines() -> [String] {
        var out: [String] = []
        let root = param(0, CodecParameter.subordinateNodeCount.rawValue)
        let firstGroup = UInt8(truncatingIfNeeded: root >> 16), groups = Int(root & 0xFF)
        var afg: UInt8?, mfg: UInt8?
        for g in 0..<groups {
            let node = firstGroup &+ UInt8(g)
            let type = param(node, CodecParameter.functionGroupType.rawValue)
            if type & 0xFF == 1, afg == nil { afg = node } else if type & 0xFF == 2, mfg == nil { mfg = node }
        }
        out.append("Codec: \(dump?.name ?? "Not Set")")
        out.append("Address: \(address)")
        let style = dump == nil ? true : dump?.functionIdStyle
        if let group = afg ?? mfg, style == false {
            out.append("Function Id: \(Self.hex(param(group, CodecParameter.functionGroupType.rawValue) & 0xFF))")
        } else if let afg, style == true {
            let t = param(afg, CodecParameter.functionGroupType.rawValue)
            out.append("AFG Function Id: \(Self.hex(t & 0xFF)) (unsol \((t >> 8) & 1))")
        }
        if let mfg, style == true {
            let t = param(mfg, CodecParameter.functionGroupType.rawValue)
            out.append("MFG Function Id: \(Self.hex(t & 0xFF)) (unsol \((t >> 8) & 1))")
        }
        out.append("Vendor Id: \(Self.hex8(param(0, CodecParameter.vendorID.rawValue)))")
        out.append("Subsystem Id: \(Self.hex8((afg ?? mfg).map { get($0, CodecVerb.getSubsystemID) } ?? 0))")
        out.append("Revision Id: \(Self.hex(param(0, CodecParameter.revisionID.rawValue)))")
        if let mfg { out.append("Modem Function Group: \(Self.hex(UInt32(mfg)))") } else { out.append("No Modem Function Group found") }
        guard let afg else { return out }
        out.append("Default PCM:")
        out += pcm(afg)
        out.append("Default Amp-In caps: " + ampCaps(param(afg, CodecParameter.inputAmpCapabilities.rawValue)))
        out.append("Default Amp-Out caps: " + ampCaps(param(afg, CodecParameter.outputAmpCapabilities.rawValue)))
        // Older kernels did not print the function group's power state (a dump without it is re-printed without).
        if dump == nil || dump?.afgNode != nil {
            out.append("State of AFG node \(Self.hex2(UInt32(afg))):")
            out += power(afg)
        }
        let sub = param(afg, CodecParameter.subordinateNodeCount.rawValue)
        let first = Int((sub >> 16) & 0xFF), count = Int(sub & 0xFF)
        guard first > 0, count > 0 else { out.append("Invalid AFG subtree"); return out }
        out += gpio(afg)
        out += dump?.groupNotes ?? []
        for n in first..<min(256, first + count) { out += node(UInt8(n)) }
        return out
    }

    /// The text as one string, a newline after every line.
    public func text() -> String { lines().map { $0 + "\n" }.joined() }

    func pcm(_ node: UInt8) -> [String] {
        let pcm = param(node, CodecParameter.supportedPCMSizeRates.rawValue)
        let formats = param(node, CodecParameter.supportedStreamFormats.rawValue)
        var rates = "    rates [\(Self.hex(pcm & 0xFFF))]:"
        for (i, r) in CodecBits.pcmRates.enumerated() where pcm & (1 << UInt32(i)) != 0 { rates += " \(r)" }
        var bits = "    bits [\(Self.hex((pcm >> 16) & 0xFF))]:"
        for (i, b) in StreamFormat.legalSampleBits.enumerated() where pcm & (1 << (16 + UInt32(i))) != 0 { bits += " \(b)" }
        var f = "    formats [\(Self.hex(formats))]:"
        for (i, name) in ["PCM", "FLOAT", "AC3"].enumerated() where formats & (1 << UInt32(i)) != 0 { f += " \(name)" }
        return [rates, bits, f]
    }

    func ampCaps(_ caps: UInt32) -> String {
        guard caps != 0 else { return "N/A" }
        return "ofs=\(Self.hex2(caps & 0x7F)), nsteps=\(Self.hex2((caps >> 8) & 0x7F)), stepsize=\(Self.hex2((caps >> 16) & 0x7F)), mute=\(caps >> 31)"
    }

    func power(_ node: UInt8, printStates: Bool = true) -> [String] {
        let sup = param(node, CodecParameter.supportedPowerStates.rawValue)
        var states = "  Power states: "
        for (name, bit) in DumpNames.powerStateBits.sorted(by: { $0.value < $1.value }) where sup & (1 << bit) != 0 { states += " \(name)" }
        let pwr = get(node, CodecVerb.getPowerState)
        func name(_ v: UInt32) -> String { Int(v) < DumpNames.powerStateNames.count ? DumpNames.powerStateNames[Int(v)] : "UNKNOWN" }
        var p = "  Power: setting=\(name(pwr & 0xF)), actual=\(name((pwr >> 4) & 0xF))"
        for (flag, bit) in DumpNames.powerFlags.sorted(by: { $0.value < $1.value }) where pwr & (1 << bit) != 0 { p += ", \(flag)" }
        return printStates ? [states, p] : [p]
    }

    func gpio(_ afg: UInt8) -> [String] {
        let g = param(afg, CodecParameter.gpioCount.rawValue)
        var out = ["GPIO: io=\(g & 0xFF), o=\((g >> 8) & 0xFF), i=\((g >> 16) & 0xFF), unsolicited=\((g >> 30) & 1), wake=\(g >> 31)"]
        let count = Int(g & 0xFF)
        guard count > 0, count <= 8 else { return out }
        let enable = get(afg, DumpVerb.getGPIOMask), dir = get(afg, DumpVerb.getGPIODirection), wake = get(afg, DumpVerb.getGPIOWake)
        let sticky = get(afg, DumpVerb.getGPIOSticky), data = get(afg, DumpVerb.getGPIOData), unsol = get(afg, DumpVerb.getGPIOUnsolicited)
        for i in 0..<count {
            func b(_ v: UInt32) -> UInt32 { (v >> UInt32(i)) & 1 }
            out.append("  IO[\(i)]: enable=\(b(enable)), dir=\(b(dir)), wake=\(b(wake)), sticky=\(b(sticky)), data=\(b(data)), unsol=\(b(unsol))")
        }
        return out
    }

    func node(_ nid: UInt8) -> [String] {
        let wcaps = param(nid, CodecParameter.audioWidgetCapabilities.rawValue)
        let type = CodecDump.WidgetType(rawValue: UInt8((wcaps >> 20) & 0xF)) ?? .vendor
        var header = "Node \(Self.hex2(UInt32(nid))) [\(type.linuxName)] wcaps \(Self.hex(wcaps)):"
        if wcaps & WidgetBits.stereo != 0 {
            let chans = ((wcaps >> 13) & 7) << 1 + 2
            header += chans == 2 ? " Stereo" : " \(chans)-Channels"
        } else {
            header += " Mono"
        }
        let flags: [(UInt32, String)] = [(WidgetBits.digital, "Digital"), (WidgetBits.inAmp, "Amp-In"), (WidgetBits.outAmp, "Amp-Out"),
                                         (WidgetBits.stripe, "Stripe"), (WidgetBits.lrSwap, "R/L"), (WidgetBits.contentProtection, "CP")]
        for (bit, name) in flags where wcaps & bit != 0 { header += " " + name }
        var out = [header]
        let notes = dump?.node(nid)
        out += notes?.leadingNotes ?? []
        let connLength = Int(param(nid, CodecParameter.connectionListLength.rawValue) & 0x7F)
        let conns = wcaps & WidgetBits.connectionList != 0 ? connections(nid) : []
        let stereo = wcaps & WidgetBits.stereo != 0
        func vals(output: Bool, count: Int) -> String {
            var s = ""
            for k in 0..<count {
                s += " [" + Self.hex2(amp(nid, output: output, left: true, index: k))
                if stereo { s += " " + Self.hex2(amp(nid, output: output, left: false, index: k)) }
                s += "]"
            }
            return s
        }
        if wcaps & WidgetBits.inAmp != 0 {
            out.append("  Amp-In caps: " + ampCaps(param(nid, CodecParameter.inputAmpCapabilities.rawValue)))
            out.append("  Amp-In vals: " + vals(output: false, count: type == .pin ? 1 : connLength))
        }
        if wcaps & WidgetBits.outAmp != 0 {
            out.append("  Amp-Out caps: " + ampCaps(param(nid, CodecParameter.outputAmpCapabilities.rawValue)))
            out.append("  Amp-Out vals: " + vals(output: true, count: 1))
        }
        switch type {
        case .pin: out += pin(nid)
        case .volumeKnob:
            let cap = param(nid, CodecParameter.volumeKnobCapabilities.rawValue), v = get(nid, DumpVerb.getVolumeKnob)
            out.append("  Volume-Knob: delta=\((cap >> 7) & 1), steps=\(cap & 0x7F), direct=\((v >> 7) & 1), val=\(v & 0x7F)")
        case .audioOutput, .audioInput:
            let conv = get(nid, CodecVerb.getConverterStreamChannel)
            out.append("  Converter: stream=\((conv >> 4) & 0xF), channel=\(conv & 0xF)")
            if type == .audioInput, conv & 0xF == 0 { out.append("  SDI-Select: \(get(nid, DumpVerb.getSDISelect) & 0xF)") }
            if wcaps & WidgetBits.digital != 0 {
                let d = get(nid, DumpVerb.getDigital)
                var line = "  Digital:"
                for (bit, name) in DumpNames.digitalFlags.enumerated() where !name.isEmpty && d & (1 << UInt32(bit)) != 0 { line += " " + name }
                out.append(line)
                out.append("  Digital category: \(Self.hex((d >> 8) & 0x7F))")
                if notes?.printsCodingType ?? true { out.append("  IEC Coding Type: \(Self.hex((d >> 16) & 0xF))") }
            }
            if wcaps & WidgetBits.formatOverride != 0 {
                out.append("  PCM:")
                out += pcm(nid)
            }
        default: break
        }
        if wcaps & WidgetBits.unsolicited != 0 {
            let u = get(nid, CodecVerb.getUnsolicitedEnable)
            out.append("  Unsolicited: tag=\(String(u & 0x3F, radix: 16).leftPadded(2)), enabled=\((u >> 7) & 1)")
        }
        // Older kernels printed no `Power states:` line; a dump without one is re-printed without.
        if wcaps & WidgetBits.powerControl != 0 { out += power(nid, printStates: dump == nil || notes?.powerStates != nil) }
        if (wcaps >> 16) & 0xF != 0 { out.append("  Delay: \((wcaps >> 16) & 0xF) samples") }
        if type == .pin, let devices = notes?.deviceListLength {
            out.append("  Devices: \(devices)")
            let sel = get(nid, DumpVerb.getDeviceSelect)
            for k in 0..<Int(devices) {
                let word: UInt32 = get(nid, DumpVerb.getDeviceList, UInt8(k & ~3))
                let e: UInt32 = (word >> (8 * UInt32(k & 3))) & 0xFF
                let mark = k == Int(sel) ? "    *" : "     "
                let flags = "PD = \(e & 1), ELDV = \((e >> 1) & 1), IA = \((e >> 2) & 1)"
                out.append(mark + "Dev " + String(k).leftPadded(2) + ": " + flags)
            }
        }
        if wcaps & WidgetBits.connectionList != 0 {
            out.append("  Connection: \(conns.count)")
            if !conns.isEmpty {
                let current = type != .mixer && type != .volumeKnob && conns.count > 1 ? Int(get(nid, CodecVerb.getConnectionSelect)) : -1
                var line = "    "
                for (k, c) in conns.enumerated() { line += " " + Self.hex2(UInt32(c)) + (k == current ? "*" : "") }
                out.append(line)
            }
        }
        if wcaps & WidgetBits.processing != 0 {
            let p = param(nid, CodecParameter.processingCapabilities.rawValue)
            out.append("  Processing caps: benign=\(p & 1), ncoeff=\((p >> 8) & 0xFF)")
        }
        out += notes?.trailingNotes ?? []
        return out
    }

    /// The connection list read with GET_CONNECTION_LIST_ENTRY (short or long form).
    func connections(_ nid: UInt8) -> [UInt8] {
        let length = param(nid, CodecParameter.connectionListLength.rawValue)
        let count = Int(length & 0x7F), long = length & 0x80 != 0
        let per = long ? 2 : 4
        var list: [UInt8] = []
        var k = 0
        while k < count {
            let e = get(nid, CodecVerb.getConnectionListEntry, UInt8(k))
            for j in 0..<per where k + j < count {
                list.append(UInt8(truncatingIfNeeded: e >> (UInt32(j) * (long ? 16 : 8))))
            }
            k += per
        }
        return list
    }

    func pin(_ nid: UInt8) -> [String] {
        var out: [String] = []
        let caps = param(nid, CodecParameter.pinCapabilities.rawValue)
        var line = "  Pincap \(Self.hex8(caps)):"
        let names: [(UInt32, String)] = [(1 << 5, "IN"), (1 << 4, "OUT"), (1 << 3, "HP"), (1 << 16, "EAPD"), (1 << 2, "Detect"), (1 << 6, "Balanced")]
        for (bit, name) in names where caps & bit != 0 { line += " " + name }
        if caps & (1 << 7) != 0 {
            if (dump?.vendorID ?? param(0, 0)) >> 16 == 0x10EC { line += " R/L" } else {
                if caps & (1 << 27) != 0 { line += " HBR" }
                line += " HDMI"
            }
        }
        if caps & (1 << 24) != 0 { line += " DP" }
        if caps & (1 << 1) != 0 { line += " Trigger" }
        if caps & (1 << 0) != 0 { line += " ImpSense" }
        out.append(line)
        let vref = (caps >> 8) & 0x37   // the levels Linux names (bits 3, 6 and 7 are reserved)
        if vref != 0 {
            var v = "    Vref caps:"
            for (bit, name) in [(0, "HIZ"), (1, "50"), (2, "GRD"), (4, "80"), (5, "100")] where vref & (1 << UInt32(bit)) != 0 { v += " " + name }
            out.append(v)
        }
        if caps & WidgetBits.pinEAPD != 0 {
            let e = get(nid, DumpVerb.getEAPD)
            var v = "  EAPD \(Self.hex(e)):"
            if e & 1 != 0 { v += " BALANCED" }
            if e & 2 != 0 { v += " EAPD" }
            if e & 4 != 0 { v += " R/L" }
            out.append(v)
        }
        let cfg = get(nid, CodecVerb.getConfigDefault)
        out += PinDefault(cfg).lines
        let ctl = get(nid, CodecVerb.getPinWidgetControl)
        var c = "  Pin-ctls: \(Self.hex2(ctl)):"
        if ctl & 0x20 != 0 { c += " IN" }
        if ctl & 0x40 != 0 { c += " OUT" }
        if ctl & 0x80 != 0 { c += " HP" }
        if vref != 0 {
            switch ctl & 7 {
            case 0: c += " VREF_HIZ"
            case 1: c += " VREF_50"
            case 2: c += " VREF_GRD"
            case 4: c += " VREF_80"
            case 5: c += " VREF_100"
            default: break
            }
        }
        out.append(c)
        return out
    }
}

/// A configuration default in words, as Linux prints it (`[Jack] HP Out at Ext Left`).
public struct PinDefault: Hashable, Sendable {
    /// The 32-bit configuration default.
    public var value: UInt32

    /// Wraps a configuration default.
    public init(_ value: UInt32) { self.value = value }

    static let connectivity = ["Jack", "N/A", "Fixed", "Both"]
    static let devices = ["Line Out", "Speaker", "HP Out", "CD", "SPDIF Out", "Digital Out", "Modem Line", "Modem Hand",
                          "Line In", "Aux", "Mic", "Telephony", "SPDIF In", "Digital In", "Reserved", "Other"]
    static let sides = ["Ext", "Int", "Sep", "Oth"]
    static let places = ["N/A", "Rear", "Front", "Left", "Right", "Top", "Bottom"]
    static let specials: [UInt32: String] = [0x07: "Rear Panel", 0x08: "Drive Bar", 0x17: "Riser", 0x18: "HDMI",
                                             0x19: "ATAPI", 0x37: "Mobile-In", 0x38: "Mobile-Out"]
    static let connections = ["Unknown", "1/8", "1/4", "ATAPI", "RCA", "Optical", "Digital", "Analog", "DIN", "XLR", "RJ11", "Comb",
                              "UNKNOWN", "UNKNOWN", "UNKNOWN", "Other"]
    static let colors = ["Unknown", "Black", "Grey", "Blue", "Green", "Red", "Orange", "Yellow", "Purple", "Pink",
                         "UNKNOWN", "UNKNOWN", "UNKNOWN", "UNKNOWN", "White", "Other"]

    /// `Jack`, `N/A`, `Fixed` or `Both` (port connectivity).
    public var portConnectivity: String { Self.connectivity[Int(value >> 30)] }
    /// The default device (`Speaker`, `HP Out`, `Mic` ...).
    public var device: String { Self.devices[Int((value >> 20) & 0xF)] }
    /// Where the jack is: `Ext Rear`, `Int N/A`, `Ext Front` ...
    public var location: String {
        let loc = (value >> 24) & 0x3F
        let place = loc & 0xF < 7 ? Self.places[Int(loc & 0xF)] : Self.specials[loc] ?? "UNKNOWN"
        return Self.sides[Int(loc >> 4)] + " " + place
    }
    /// The connection type (`1/8`, `Digital` ...).
    public var connection: String { Self.connections[Int((value >> 16) & 0xF)] }
    /// The color.
    public var color: String { Self.colors[Int((value >> 12) & 0xF)] }

    /// The lines Linux prints for it.
    public var lines: [String] {
        var out = ["  Pin Default \(CodecDumpPrinter.hex8(value)): [\(portConnectivity)] \(device) at \(location)",
                   "    Conn = \(connection), Color = \(color)",
                   "    DefAssociation = \(CodecDumpPrinter.hex((value >> 4) & 0xF)), Sequence = \(CodecDumpPrinter.hex(value & 0xF))"]
        if (value >> 8) & 1 != 0 { out.append("    Misc = NO_PRESENCE") }
        return out
    }
}

extension CodecDump {
    /// True for a line that states a parameter (or the configuration default, or the
    /// connection list), as opposed to state Linux left (amp values, pin controls, converter
    /// settings, power settings ...) or Linux's notes about its own controls.
    public static func isParameterLine(_ line: String) -> Bool {
        let t = line.drop { $0 == " " || $0 == "\t" }
        if t.hasPrefix("0x") { return true }   // a connection list
        return parameterPrefixes.contains { t.hasPrefix($0) }
    }

    static let parameterPrefixes = ["AFG Function Id:", "MFG Function Id:", "Vendor Id:", "Subsystem Id:", "Revision Id:",
                                    "Modem Function Group:", "No Modem Function Group found", "rates [", "bits [", "formats [",
                                    "Default Amp-In caps:", "Default Amp-Out caps:", "State of AFG node", "Power states:", "GPIO:",
                                    "Node 0x", "Amp-In caps:", "Amp-Out caps:", "Pincap ", "Vref caps:", "Pin Default ", "Conn = ",
                                    "DefAssociation = ", "Misc = ", "PCM:", "Delay:", "Processing caps:", "Connection:", "Devices:"]

    /// Loads the dump into a `DumpCodec`, re-prints it through verbs, and returns the first
    /// parameter line (`isParameterLine`) where the two differ (selection marks aside), or nil.
    public func parameterLineDifference() -> CodecDumpError? {
        let codec = DumpCodec(dump: self, startFromDump: true)
        let printed = CodecDumpPrinter(codec: codec, address: codec.address, dump: self).lines()
        func norm(_ s: String) -> String {
            var t = s.replacing("*", with: "")
            while t.last == " " { t.removeLast() }
            return t
        }
        let mine = sourceLines.enumerated().filter { Self.isParameterLine($0.element) }
        let theirs = printed.filter(Self.isParameterLine)
        for (k, (offset, dumped)) in mine.enumerated() {
            guard k < theirs.count else {
                return CodecDumpError(line: line + offset, "the re-print ends before '\(dumped)'")
            }
            if norm(dumped) != norm(theirs[k]) {
                return CodecDumpError(line: line + offset, "dump '\(dumped.trimmed)', codec answers '\(theirs[k].trimmed)'")
            }
        }
        if theirs.count > mine.count {
            return CodecDumpError(line: line + sourceLines.count, "the re-print has more: '\(theirs[mine.count].trimmed)'")
        }
        return nil
    }
}

extension String {
    var trimmed: String { String(drop { $0 == " " }) }
}
