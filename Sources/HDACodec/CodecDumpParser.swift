/// Why a file could not be read as codec dumps: the line (1-based) and what was expected there.
public struct CodecDumpError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The line of the file (1-based); 0 for the file as a whole.
    public var line: Int
    /// What was wrong, in words.
    public var reason: String

    /// An error at a line.
    public init(line: Int, _ reason: String) {
        self.line = line
        self.reason = reason
    }

    /// `line 12: expected 'Pincap 0x<hex>:', found '  Pincap zz'`.
    public var description: String { line > 0 ? "line \(line): \(reason)" : reason }
}

extension CodecDump {
    /// Every codec in a text: a `/proc/asound/cardN/codec#M` file, or an alsa-info report
    /// (or any text) holding such files; whatever surrounds them is skipped.
    ///
    /// A codec starts at a `Codec:` line at the start of a line and runs while its lines
    /// are indented or are the format's own top-level lines (`Node 0x..`, `GPIO:` ...);
    /// any other line ends it. Throws when no codec is found, or at the first line of a
    /// codec that does not read as the format says (naming the line and what was expected).
    public static func parseAll(_ text: String) throws(CodecDumpError) -> [CodecDump] {
        // \n, \r\n (one Character in Swift) and a lone \r all end a line.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline })
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = first.dropFirst() }
        var codecs: [CodecDump] = []
        var i = 0
        while i < lines.count {
            if lines[i].hasPrefix("Codec:") {
                var reader = DumpReader(lines: lines, start: i)
                codecs.append(try reader.read())
                i = reader.index
            } else {
                i += 1
            }
        }
        guard !codecs.isEmpty else {
            throw CodecDumpError(line: 0, "not a codec dump: no 'Codec:' line (the first line of /proc/asound/cardN/codec#M)")
        }
        return codecs
    }

    /// The codec numbered `index` (0-based, in file order) of a text; see `parseAll`.
    public static func parse(_ text: String, index: Int = 0) throws(CodecDumpError) -> CodecDump {
        let all = try parseAll(text)
        guard all.indices.contains(index) else {
            throw CodecDumpError(line: 0, "no codec #\(index): the file holds \(all.count) codec\(all.count == 1 ? "" : "s") (#0 to #\(all.count - 1))")
        }
        return all[index]
    }
}

/// Reads one codec, line by line.
struct DumpReader {
    let lines: [Substring]
    var index: Int
    let start: Int

    init(lines: [Substring], start: Int) {
        self.lines = lines
        self.start = start
        index = start
    }

    /// The line number (1-based) of `index`.
    var lineNumber: Int { index + 1 }

    func fail(_ expected: String, _ line: Substring) -> CodecDumpError {
        CodecDumpError(line: lineNumber, "expected \(expected), found '\(line.prefix(80))'")
    }

    /// Top-level lines that belong to a codec.
    static let topLevel = ["Codec:", "Address:", "AFG Function Id:", "MFG Function Id:", "Function Id:", "Vendor Id:",
                           "Subsystem Id:", "Revision Id:", "No Modem Function Group found", "Modem Function Group:",
                           "Default PCM:", "Default Amp-In caps:", "Default Amp-Out caps:", "State of AFG node",
                           "GPIO:", "Node ", "Invalid AFG subtree", "N/A"]

    /// A vendor's own line at the function group level (`Power-Map: 0x00`).
    static func isNoteLine(_ line: Substring) -> Bool {
        guard let colon = line.firstIndex(of: ":"), let f = line.first, f.isUppercase else { return false }
        return line[..<colon].allSatisfy { $0.isLetter || $0 == " " || $0 == "-" }
    }

    mutating func read() throws(CodecDumpError) -> CodecDump {
        var dump = CodecDump(name: "", address: 0, vendorID: 0, subsystemID: 0, revisionID: 0, nodes: [], line: lineNumber)
        var haveVendor = false, haveSubsystem = false, haveRevision = false, haveAddress = false
        var node: CodecDump.Node?
        var inGroupState = false
        func flush() {
            if let n = node { dump.nodes.append(n) }
            node = nil
        }
        var first = true
        var sawFunctionId: Bool?
        while index < lines.count {
            let line = lines[index]
            if line.isEmpty { index += 1; continue }
            let indented = line.first == " " || line.first == "\t"
            if !indented {
                if line.hasPrefix("Codec:") && !first { break }
                guard Self.topLevel.contains(where: { line.hasPrefix($0) }) || Self.isNoteLine(line) else { break }
            }
            first = false
            let text = line.drop { $0 == " " || $0 == "\t" }
            if indented {
                if var n = node {
                    try readNodeLine(text, line, into: &n)
                    node = n
                } else if inGroupState, text.hasPrefix("Power states:") {
                    dump.afgPowerStates = try powerStates(text)
                } else if inGroupState, text.hasPrefix("Power:") {
                    dump.afgPower = try power(text, line)
                } else if text.hasPrefix("IO[") {
                    var g = dump.gpioState
                    try readGPIO(text, line, into: &g)
                    dump.gpioState = g
                } else if text.hasPrefix("rates [") || text.hasPrefix("bits [") || text.hasPrefix("formats [") {
                    var pcm = dump.defaultPCM, formats = dump.defaultStreamFormats
                    try readPCM(text, line, pcm: &pcm, formats: &formats)
                    dump.defaultPCM = pcm
                    dump.defaultStreamFormats = formats
                } else {
                    dump.groupNotes.append(String(line))
                }
                index += 1
                continue
            }
            inGroupState = false
            if line.hasPrefix("Node ") {
                flush()
                node = try readNodeHeader(line)
            } else if line.hasPrefix("Codec:") {
                dump.name = String(line.dropFirst(6).drop { $0 == " " })
            } else if line.hasPrefix("Address:") {
                guard let a = UInt8(line.dropFirst(8).trimmingSpaces), a < 16 else { throw fail("'Address: <0 to 15>'", line) }
                dump.address = a
                haveAddress = true
            } else if line.hasPrefix("Function Id:") {
                // Older kernels: the type of the codec's function group, a modem's (2) when it has one and no audio group.
                let type = try functionId(line.dropFirst(12), line)
                if type & 0xFF == 2 { dump.mfgFunctionType = type } else { dump.afgFunctionType = type }
                sawFunctionId = false
            } else if line.hasPrefix("AFG Function Id:") {
                dump.afgFunctionType = try functionId(line.dropFirst(16), line)
                sawFunctionId = true
            } else if line.hasPrefix("MFG Function Id:") {
                dump.mfgFunctionType = try functionId(line.dropFirst(16), line)
                sawFunctionId = true
            } else if line.hasPrefix("Vendor Id:") {
                dump.vendorID = try hex(line.dropFirst(10), "'Vendor Id: 0x<8 hex digits>'", line)
                haveVendor = true
            } else if line.hasPrefix("Subsystem Id:") {
                dump.subsystemID = try hex(line.dropFirst(13), "'Subsystem Id: 0x<hex>'", line)
                haveSubsystem = true
            } else if line.hasPrefix("Revision Id:") {
                dump.revisionID = try hex(line.dropFirst(12), "'Revision Id: 0x<hex>'", line)
                haveRevision = true
            } else if line.hasPrefix("Modem Function Group:") {
                dump.mfgNode = UInt8(truncatingIfNeeded: try hex(line.dropFirst(21), "'Modem Function Group: 0x<node>'", line))
            } else if line.hasPrefix("Default PCM:") {
                dump.defaultPCM = 0
                dump.defaultStreamFormats = 0
                var pcm = dump.defaultPCM, formats = dump.defaultStreamFormats
                try readOneLinePCM(line.dropFirst(12), line, pcm: &pcm, formats: &formats)
                dump.defaultPCM = pcm
                dump.defaultStreamFormats = formats
            } else if line.hasPrefix("Default Amp-In caps:") {
                dump.defaultAmpInCaps = try ampCaps(line.dropFirst(20), line)
            } else if line.hasPrefix("Default Amp-Out caps:") {
                dump.defaultAmpOutCaps = try ampCaps(line.dropFirst(21), line)
            } else if line.hasPrefix("State of AFG node") {
                let rest = line.dropFirst(17).trimmingSpaces.trimmingCharacters(":")
                dump.afgNode = UInt8(truncatingIfNeeded: try hex(rest, "'State of AFG node 0x<node>:'", line))
                inGroupState = true
            } else if line.hasPrefix("GPIO:") {
                dump.gpioCapabilities = try gpioCaps(line)
            } else if line.hasPrefix("No Modem Function Group found") || line.hasPrefix("Invalid AFG subtree") || line.hasPrefix("N/A") {
                // Nothing to keep: no MFG, or no widgets, or a PCM line Linux could not read.
            } else {
                if node == nil { dump.groupNotes.append(String(line)) } else { node?.trailingNotes.append(String(line)) }
            }
            index += 1
        }
        flush()
        if dump.afgFunctionType == nil, dump.defaultPCM != nil || !dump.nodes.isEmpty {
            // Kernels before the function ids were printed: the widgets belong to an audio
            // function group (type 1); whether it can send unsolicited responses is not said (0).
            dump.afgFunctionType = 1
        }
        if dump.mfgFunctionType == nil, dump.mfgNode != nil { dump.mfgFunctionType = 2 }
        dump.functionIdStyle = sawFunctionId
        dump.sourceLines = lines[start..<index].map(String.init)
        guard haveVendor else { throw CodecDumpError(line: dump.line, "codec '\(dump.name)' has no 'Vendor Id:' line") }
        guard haveAddress, haveSubsystem, haveRevision else {
            throw CodecDumpError(line: dump.line, "codec '\(dump.name)' lacks one of 'Address:', 'Subsystem Id:', 'Revision Id:'")
        }
        var last: UInt8?
        for n in dump.nodes {
            if let l = last, n.id <= l {
                throw CodecDumpError(line: n.line, "node 0x\(String(n.id, radix: 16)) comes after node 0x\(String(l, radix: 16)): nodes must be in increasing order")
            }
            last = n.id
        }
        return dump
    }

    // MARK: Nodes

    mutating func readNodeHeader(_ line: Substring) throws(CodecDumpError) -> CodecDump.Node {
        // Node 0x02 [Audio Output] wcaps 0x41d: Stereo Amp-Out
        let expected = "'Node 0x<id> [<type>] wcaps 0x<hex>: ...'"
        guard let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]"), open < close else { throw fail(expected, line) }
        let id = try hex(line[line.index(line.startIndex, offsetBy: 5)..<open], expected, line)
        guard id <= 0xFF else { throw fail("a node id up to 0xff", line) }
        let after = line[line.index(after: close)...].trimmingSpaces
        guard after.hasPrefix("wcaps ") else { throw fail(expected, line) }
        let value = after.dropFirst(6).prefix { $0 != ":" }
        let wcaps = try hex(value, expected, line)
        return CodecDump.Node(id: UInt8(id), wcaps: wcaps, line: lineNumber)
    }

    mutating func readNodeLine(_ text: Substring, _ line: Substring, into n: inout CodecDump.Node) throws(CodecDumpError) {
        if text.hasPrefix("Control:") || text.hasPrefix("ControlAmp:") || text.hasPrefix("Device:") {
            n.leadingNotes.append(String(line))
        } else if text.hasPrefix("Amp-In caps:") {
            n.ampInCaps = try ampCaps(text.dropFirst(12), line)
        } else if text.hasPrefix("Amp-Out caps:") {
            n.ampOutCaps = try ampCaps(text.dropFirst(13), line)
        } else if text.hasPrefix("Amp-In vals:") {
            n.state.ampIn = try ampValues(text.dropFirst(12), line)
        } else if text.hasPrefix("Amp-Out vals:") {
            n.state.ampOut = try ampValues(text.dropFirst(13), line).first ?? []
        } else if text.hasPrefix("Pincap ") {
            var digits = text.dropFirst(7).prefix { $0 != ":" }
            // Kernels before 2.6.29 or so printed "Pincap 0x08%x" (meaning %08x): a value with fewer than
            // eight digits after "0x08" is the digits after it ("0x0814" is 0x14, OUT Detect).
            if digits.hasPrefix("0x08"), digits.count > 4, digits.count < 10 { digits = "0x" + digits.dropFirst(4) }
            n.pinCaps = try hex(digits, "'Pincap 0x<hex>: ...'", line)
        } else if text.hasPrefix("Pin Default ") {
            n.configDefault = try hex(text.dropFirst(12).prefix { $0 != ":" }, "'Pin Default 0x<hex>: ...'", line)
        } else if text.hasPrefix("Pin-ctls:") {
            n.state.pinControl = UInt8(truncatingIfNeeded: try hex(text.dropFirst(9).prefix { $0 != ":" }, "'Pin-ctls: 0x<hex>: ...'", line))
        } else if text.hasPrefix("EAPD ") {
            n.state.eapd = UInt8(truncatingIfNeeded: try hex(text.dropFirst(5).prefix { $0 != ":" }, "'EAPD 0x<hex>: ...'", line))
        } else if text.hasPrefix("Unsolicited:") {
            let f = try fields(text.dropFirst(12), ["tag", "enabled"], hexKeys: ["tag"], line)
            n.state.unsolicited = UInt8(truncatingIfNeeded: (f["tag"]! & 0x3F) | (f["enabled"]! != 0 ? 0x80 : 0))
        } else if text.hasPrefix("Power states:") {
            n.powerStates = try powerStates(text)
        } else if text.hasPrefix("Power:") {
            n.state.power = try power(text, line)
        } else if text.hasPrefix("Converter:") {
            let f = try fields(text.dropFirst(10), ["stream", "channel"], line)
            n.state.streamChannel = UInt8(truncatingIfNeeded: (f["stream"]! & 0xF) << 4 | (f["channel"]! & 0xF))
        } else if text.hasPrefix("SDI-Select:") {
            guard let v = UInt8(text.dropFirst(11).trimmingSpaces) else { throw fail("'SDI-Select: <number>'", line) }
            n.state.sdiSelect = v
        } else if text.hasPrefix("Digital category:") {
            let c = try hex(text.dropFirst(17), "'Digital category: 0x<hex>'", line)
            n.state.digital |= (c & 0x7F) << 8
        } else if text.hasPrefix("IEC Coding Type:") {
            let c = try hex(text.dropFirst(16), "'IEC Coding Type: 0x<hex>'", line)
            n.state.digital |= (c & 0xF) << 16
            n.printsCodingType = true
        } else if text.hasPrefix("Digital:") {
            for word in text.dropFirst(8).split(separator: " ") {
                if word == "Copyright" { n.state.digital |= 1 << 4; continue }   // older kernels' name for the same bit
                guard let bit = DumpNames.digitalFlags.firstIndex(of: String(word)) else {
                    throw fail("digital converter flags (\(DumpNames.digitalFlags.filter { !$0.isEmpty }.joined(separator: ", ")))", line)
                }
                n.state.digital |= 1 << UInt32(bit)
            }
        } else if text.hasPrefix("PCM:") {
            n.pcm = 0
            n.streamFormats = 0
            try readOneLinePCM(text.dropFirst(4), line, pcm: &n.pcm, formats: &n.streamFormats)
        } else if text.hasPrefix("rates [") || text.hasPrefix("bits [") || text.hasPrefix("formats [") {
            try readPCM(text, line, pcm: &n.pcm, formats: &n.streamFormats)
        } else if text.hasPrefix("Delay:") || text.hasPrefix("Vref caps:") || text.hasPrefix("Conn = ")
                    || text.hasPrefix("DefAssociation = ") || text.hasPrefix("Misc = ") {
            // Derived from numbers read elsewhere (wcaps, Pincap, Pin Default); the printer re-derives them.
        } else if text.hasPrefix("Connection:") {
            guard let count = Int(text.dropFirst(11).trimmingSpaces), count <= 255 else {
                throw fail("'Connection: <count>'", line)
            }
            // A negative count is an error Linux met reading the list: no entries listed.
            n.connections = []
            n.state.connectionSelect = 0
            if count > 0 {
                index += 1
                guard index < lines.count else { throw CodecDumpError(line: lineNumber, "expected the \(count) connections, found the end of the file") }
                let list = lines[index]
                let words = list.split(separator: " ")
                guard words.count == count else {
                    throw fail("\(count) connection entries ('0x<node>', the selected one marked '*')", list)
                }
                // No entry marked: the chip answered a selection outside the list (kept as such).
                if n.type != .mixer, n.type != .volumeKnob, count > 1, !list.contains("*") { n.state.connectionSelect = UInt8(count) }
                for (k, w) in words.enumerated() {
                    var word = w
                    if word.hasSuffix("*") { word = word.dropLast(); n.state.connectionSelect = UInt8(k) }
                    let v = try hex(word, "a connection entry '0x<node>'", list)
                    guard v <= 0xFF else { throw fail("a connection entry up to 0xff", list) }
                    n.connections.append(UInt8(v))
                }
            }
        } else if text.hasPrefix("In-driver Connection:") {
            n.trailingNotes.append(String(line))
            if let count = Int(text.dropFirst(21).trimmingSpaces), count > 0, index + 1 < lines.count {
                index += 1
                n.trailingNotes.append(String(lines[index]))
            }
        } else if text.hasPrefix("Processing caps:") {
            let f = try fields(text.dropFirst(16), ["benign", "ncoeff"], line)
            n.processingCaps = (f["benign"]! & 1) | (f["ncoeff"]! & 0xFF) << 8
        } else if text.hasPrefix("Volume-Knob:") {
            let f = try fields(text.dropFirst(12), ["delta", "steps", "direct", "val"], line)
            n.volumeKnobCaps = (f["delta"]! & 1) << 7 | (f["steps"]! & 0x7F)
            n.state.volumeKnob = UInt8(truncatingIfNeeded: (f["direct"]! & 1) << 7 | (f["val"]! & 0x7F))
        } else if text.hasPrefix("Devices:") {
            guard let count = UInt32(text.dropFirst(8).trimmingSpaces) else { throw fail("'Devices: <count>'", line) }
            n.deviceListLength = count
        } else if text.hasPrefix("Dev ") || text.hasPrefix("*Dev ") {
            let selected = text.hasPrefix("*")
            let body = text.drop { $0 == "*" }.dropFirst(4)
            guard let colon = body.firstIndex(of: ":"), let k = Int(body[..<colon]) else { throw fail("'Dev <NN>: PD = <0|1>, ...'", line) }
            let entry = body[body.index(after: colon)...].prefix { $0 != "C" }   // up to ", Connections [...]"
            let f = try fields(entry.replacingSpacedEquals, ["PD", "ELDV", "IA"], line)
            if selected { n.state.deviceSelect = UInt8(truncatingIfNeeded: k) }
            while n.state.devices.count <= k { n.state.devices.append(0) }
            n.state.devices[k] = UInt8(truncatingIfNeeded: (f["PD"]! & 1) | (f["ELDV"]! & 1) << 1 | (f["IA"]! & 1) << 2)
            if text.contains("Connections [") { n.trailingNotes.append(String(line)) }
        } else {
            n.trailingNotes.append(String(line))
        }
    }

    // MARK: Fields

    func hex(_ s: Substring, _ expected: String, _ line: Substring) throws(CodecDumpError) -> UInt32 {
        let t = s.trimmingSpaces
        guard t.hasPrefix("0x") || t.hasPrefix("0X"), let v = UInt32(t.dropFirst(2), radix: 16) else { throw fail(expected, line) }
        return v
    }

    func functionId(_ rest: Substring, _ line: Substring) throws(CodecDumpError) -> UInt32 {
        // " 0x1 (unsol 1)" or " 0x1"
        let t = rest.trimmingSpaces
        let value = t.prefix { $0 != " " }
        let type = try hex(value, "'Function Id: 0x<type> (unsol <0|1>)'", line)
        var unsol: UInt32 = 0
        if let r = t.range(of: "(unsol ") {
            guard let u = UInt32(t[r.upperBound...].prefix { $0.isNumber }) else { throw fail("'(unsol <0|1>)'", line) }
            unsol = u & 1
        }
        return (type & 0xFF) | unsol << 8
    }

    /// `ofs=0x17, nsteps=0x3f, stepsize=0x02, mute=1` or `N/A`.
    func ampCaps(_ rest: Substring, _ line: Substring) throws(CodecDumpError) -> UInt32 {
        let t = rest.trimmingSpaces
        if t == "N/A" { return 0 }
        let f = try fields(t, ["ofs", "nsteps", "stepsize", "mute"], hexKeys: ["ofs", "nsteps", "stepsize", "mute"], line)
        return (f["ofs"]! & 0x7F) | (f["nsteps"]! & 0x7F) << 8 | (f["stepsize"]! & 0x7F) << 16 | (f["mute"]! & 1) << 31
    }

    /// ` [0x97 0x97] [0x80 0x80]`.
    func ampValues(_ rest: Substring, _ line: Substring) throws(CodecDumpError) -> [[UInt8]] {
        var groups: [[UInt8]] = []
        var s = rest.trimmingSpaces
        if !s.isEmpty, !s.hasPrefix("[") {
            // Older kernels: `Amp-Out vals: 0x1c 0x1c`, one group without brackets.
            var g: [UInt8] = []
            for w in s.split(separator: " ") { g.append(UInt8(truncatingIfNeeded: try hex(w, "amp values '0x<hex> 0x<hex>'", line))) }
            guard g.count <= 2 else { throw fail("one or two amp values", line) }
            return [g]
        }
        while let open = s.firstIndex(of: "[") {
            guard let close = s[open...].firstIndex(of: "]") else { throw fail("amp values '[0x<hex> 0x<hex>]'", line) }
            var g: [UInt8] = []
            for w in s[s.index(after: open)..<close].split(separator: " ") {
                g.append(UInt8(truncatingIfNeeded: try hex(w, "amp values '[0x<hex> 0x<hex>]'", line)))
            }
            guard !g.isEmpty, g.count <= 2 else { throw fail("one or two amp values between brackets", line) }
            groups.append(g)
            s = s[s.index(after: close)...]
        }
        guard !groups.isEmpty || s.trimmingSpaces.isEmpty else { throw fail("amp values '[0x<hex> 0x<hex>]'", line) }
        return groups
    }

    /// `key=value, key=value`, every key of `keys` present (values decimal, or hex for `hexKeys`).
    func fields(_ rest: Substring, _ keys: [String], hexKeys: Set<String> = [], _ line: Substring) throws(CodecDumpError) -> [String: UInt32] {
        var out: [String: UInt32] = [:]
        for part in rest.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            let key = String(kv[0].trimmingSpaces)
            let raw = kv[1].trimmingSpaces
            let v: UInt32?
            if raw.hasPrefix("0x") { v = UInt32(raw.dropFirst(2), radix: 16) }
            else if hexKeys.contains(key) { v = UInt32(raw, radix: 16) }
            else { v = UInt32(raw) }
            guard let value = v else { throw fail("a number for '\(key)'", line) }
            out[key] = value
        }
        for k in keys where out[k] == nil {
            throw fail(keys.map { "\($0)=<n>" }.joined(separator: ", "), line)
        }
        return out
    }

    func powerStates(_ text: Substring) throws(CodecDumpError) -> UInt32 {
        var bits: UInt32 = 0
        for word in text.dropFirst(13).split(separator: " ") {
            guard let bit = DumpNames.powerStateBits[String(word)] else {
                throw fail("power state names (\(DumpNames.powerStateBits.keys.sorted().joined(separator: " ")))", lines[index])
            }
            bits |= 1 << bit
        }
        return bits
    }

    /// `Power: setting=D0, actual=D0[, Error][, Clock-stop-OK][, Setting-reset]` or `Power: 0x0`.
    func power(_ text: Substring, _ line: Substring) throws(CodecDumpError) -> UInt32 {
        let rest = text.dropFirst(6).trimmingSpaces
        if rest.hasPrefix("0x") { return try hex(rest, "'Power: 0x<hex>'", line) }
        var value: UInt32 = 0
        for part in rest.split(separator: ",") {
            let p = part.trimmingSpaces
            if p.hasPrefix("setting=") || p.hasPrefix("actual=") {
                let name = String(p.drop { $0 != "=" }.dropFirst())
                guard let s = DumpNames.powerStateNames.firstIndex(of: name) else { throw fail("a power state D0 to D3cold", line) }
                value |= p.hasPrefix("setting=") ? UInt32(s) : UInt32(s) << 4
            } else if let bit = DumpNames.powerFlags[String(p)] {
                value |= 1 << bit
            } else {
                throw fail("'Power: setting=<Dn>, actual=<Dn>'", line)
            }
        }
        return value
    }

    func gpioCaps(_ line: Substring) throws(CodecDumpError) -> UInt32 {
        let f = try fields(line.dropFirst(5), ["io", "o", "i", "unsolicited", "wake"], line)
        return (f["io"]! & 0xFF) | (f["o"]! & 0xFF) << 8 | (f["i"]! & 0xFF) << 16 | (f["unsolicited"]! & 1) << 30 | (f["wake"]! & 1) << 31
    }

    func readGPIO(_ text: Substring, _ line: Substring, into g: inout CodecDump.GPIOState) throws(CodecDumpError) {
        guard let close = text.firstIndex(of: "]"), let k = Int(text.dropFirst(3)[..<close]), k >= 0, k < 8 else {
            throw fail("'IO[<0 to 7>]: enable=<0|1>, ...'", line)
        }
        // Older kernels print no `unsol=`.
        let f = try fields(text[text.index(after: close)...].dropFirst(), ["enable", "dir", "wake", "sticky", "data"], line)
        let bit = UInt8(1) << UInt8(k)
        func set(_ mask: inout UInt8, _ key: String) { if f[key, default: 0] != 0 { mask |= bit } }
        set(&g.enable, "enable"); set(&g.direction, "dir"); set(&g.wake, "wake")
        set(&g.sticky, "sticky"); set(&g.data, "data"); set(&g.unsolicited, "unsol")
    }

    /// The one-line form older kernels printed after `PCM:` and `Default PCM:`:
    /// `rates 0x07f, bits 0x0e, types 0x1` (the sizes as in `bits [..]`, the types as in
    /// `formats [..]`); nothing after the colon is the newer form, its lines follow.
    func readOneLinePCM(_ rest: Substring, _ line: Substring, pcm: inout UInt32?, formats: inout UInt32?) throws(CodecDumpError) {
        let fields = rest.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
        guard !fields.isEmpty else { return }
        for f in fields {
            let parts = f.split(separator: " ")
            guard parts.count == 2 else { throw fail("'PCM: rates 0x<hex>, bits 0x<hex>, types 0x<hex>'", line) }
            let v = try hex(parts[1], "'PCM: rates 0x<hex>, bits 0x<hex>, types 0x<hex>'", line)
            switch parts[0] {
            case "rates": pcm = (pcm ?? 0) & ~0xFFF | (v & 0xFFF)
            case "bits": pcm = (pcm ?? 0) & 0xFFF | (v & 0xFF) << 16
            case "types": formats = v
            default: throw fail("'PCM: rates 0x<hex>, bits 0x<hex>, types 0x<hex>'", line)
            }
        }
    }

    /// `rates [0x560]: ...`, `bits [0xe]: ...`, `formats [0x1]: ...`: the numbers between brackets.
    func readPCM(_ text: Substring, _ line: Substring, pcm: inout UInt32?, formats: inout UInt32?) throws(CodecDumpError) {
        guard let open = text.firstIndex(of: "["), let close = text.firstIndex(of: "]") else { throw fail("'rates [0x<hex>]: ...'", line) }
        let v = try hex(text[text.index(after: open)..<close], "'\(text.prefix { $0 != " " }) [0x<hex>]: ...'", line)
        if text.hasPrefix("rates") { pcm = (pcm ?? 0) & ~0xFFF | (v & 0xFFF) }
        else if text.hasPrefix("bits") { pcm = (pcm ?? 0) & 0xFFF | (v & 0xFF) << 16 }
        else { formats = v }
    }
}

/// The names Linux prints for power states, flags and digital converter bits.
enum DumpNames {
    /// `Power states:` names and their bits in the supported power states parameter.
    static let powerStateBits: [String: UInt32] = ["D0": 0, "D1": 1, "D2": 2, "D3": 3, "D3cold": 4, "S3D3cold": 29, "CLKSTOP": 30, "EPSS": 31]
    /// `Power: setting=` names, by value.
    static let powerStateNames = ["D0", "D1", "D2", "D3", "D3cold"]
    /// `Power:` flags and their bits in the GET_POWER_STATE answer.
    static let powerFlags: [String: UInt32] = ["Error": 8, "Clock-stop-OK": 9, "Setting-reset": 10]
    /// `Digital:` flags, by bit of the digital converter control's first byte.
    static let digitalFlags = ["Enabled", "Validity", "ValidityCfg", "Preemphasis", "Non-Copyright", "Non-Audio", "Pro", "GenLevel",
                               "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "KAE"]
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }

    func trimmingCharacters(_ c: Character) -> Substring {
        var s = self
        while s.last == c { s = s.dropLast() }
        return s
    }

    /// `PD = 0, ELDV = 1` as `PD=0, ELDV=1`.
    var replacingSpacedEquals: Substring {
        Substring(split(separator: ",").map { part in part.split(separator: "=").map { $0.trimmingSpaces }.joined(separator: "=") }.joined(separator: ","))
    }

    func range(of needle: String) -> Range<Substring.Index>? {
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(needle) { return i..<index(i, offsetBy: needle.count) }
            i = index(after: i)
        }
        return nil
    }
}
