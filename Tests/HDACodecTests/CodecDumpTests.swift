import Foundation
import Testing
import HDAudio
@testable import HDACodec
import TestSupport

/// Loads `FILE#N` of the shipped dumps.
func shipped(_ spec: String) throws -> CodecDump {
    let parts = spec.split(separator: "#")
    return try CodecDump.parse(ShippedDumps.text(String(parts[0])), index: Int(parts[1]) ?? 0)
}

/// Sends a verb to a codec at address 0 and returns the answer (0 for none).
func ask(_ codec: any LinkCodec, _ node: UInt8, _ verb: UInt16, _ payload: UInt8 = 0) -> UInt32 {
    codec.linkCommand(CodecVerb(codec: 0, node: node, verb: verb, payload: payload).rawValue) ?? 0
}

/// Sends a 16-bit-payload verb.
func askLong(_ codec: any LinkCodec, _ node: UInt8, _ verb: UInt8, _ payload: UInt16) -> UInt32 {
    codec.linkCommand(CodecVerb(codec: 0, node: node, shortVerb: verb, payload: payload).rawValue) ?? 0
}

func parameter(_ codec: any LinkCodec, _ node: UInt8, _ p: CodecParameter) -> UInt32 {
    ask(codec, node, CodecVerb.getParameter, p.rawValue)
}

/// A codec's connection list read back through GET_CONNECTION_LIST_ENTRY, in the form its length says.
func connectionList(_ codec: any LinkCodec, _ node: UInt8) -> [UInt8] {
    let length = parameter(codec, node, .connectionListLength)
    let count = Int(length & 0x7F), long = length & 0x80 != 0
    var list: [UInt8] = []
    var k = 0
    while k < count {
        let e = ask(codec, node, CodecVerb.getConnectionListEntry, UInt8(k))
        for j in 0..<(long ? 2 : 4) where k + j < count { list.append(UInt8(truncatingIfNeeded: e >> (UInt32(j) * (long ? 16 : 8)))) }
        k += long ? 2 : 4
    }
    return list
}

@Suite("Codec dumps: the shipped real dumps")
struct ShippedDumpTests {
    @Test("Six or more real dumps ship, each naming its machine and where it was published")
    func dumpsShipWithTheirSource() throws {
        #expect(ShippedDumps.files.count >= 6)
        #expect(Set(ShippedDumps.files) == Set(ShippedDumps.codecCounts.keys))
        for f in ShippedDumps.files {
            let lines = try ShippedDumps.text(f).split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines[0].hasPrefix("# ") && lines[0].contains("("), "\(f): first line names the machine and its codecs")
            #expect(lines[1].contains("tiwai/hda-emu") && lines[1].contains("codecs/"), "\(f): second line says where it was published")
        }
    }

    @Test("The shipped set covers two Realtek (one ALC269 family), IDT, Conexant or Analog Devices and Intel HDMI")
    func vendorsAreCovered() throws {
        let dumps = try ShippedDumps.codecSpecs.map(shipped)
        let vendors = dumps.map { $0.vendorID >> 16 }
        #expect(Set(dumps.filter { $0.vendorID >> 16 == 0x10EC }.map(\.vendorID)).count >= 2)
        #expect(dumps.contains { $0.vendorID == 0x10EC0269 })
        #expect(vendors.contains(0x111D))
        #expect(vendors.contains(0x14F1) || vendors.contains(0x11D4))
        #expect(dumps.contains { $0.vendorID >> 16 == 0x8086 && $0.name.contains("HDMI") })
    }

    @Test("Every shipped dump loads, with every codec the file holds", arguments: ShippedDumps.files)
    func everyDumpLoads(_ file: String) throws {
        let all = try CodecDump.parseAll(ShippedDumps.text(file))
        #expect(all.count == ShippedDumps.codecCounts[file])
        for d in all {
            #expect(!d.nodes.isEmpty)
            #expect(d.vendorID != 0)
            #expect(d.afgFunctionType == 1 | (d.afgFunctionType ?? 0) & 0x100)
        }
    }

    @Test("Each codec's parameters and connection lists equal the dump's numbers", arguments: ShippedDumps.codecSpecs)
    func parametersEqualTheDump(_ spec: String) throws {
        let dump = try shipped(spec)
        let codec = DumpCodec(dump: dump, address: 0)
        #expect(parameter(codec, 0, .vendorID) == dump.vendorID)
        #expect(parameter(codec, 0, .revisionID) == dump.revisionID)
        let afg = dump.functionGroupNode
        #expect(parameter(codec, 0, .subordinateNodeCount) == UInt32(afg) << 16 | 1)
        #expect(ask(codec, afg, CodecVerb.getSubsystemID) == dump.subsystemID)
        #expect(parameter(codec, afg, .functionGroupType) == dump.afgFunctionType)
        let sub = parameter(codec, afg, .subordinateNodeCount)
        #expect(Int(sub >> 16) == Int(dump.nodes.first!.id) && Int(sub & 0xFF) == dump.nodes.count)
        #expect(parameter(codec, afg, .supportedPCMSizeRates) == dump.defaultPCM)
        #expect(parameter(codec, afg, .supportedStreamFormats) == dump.defaultStreamFormats)
        #expect(parameter(codec, afg, .inputAmpCapabilities) == dump.defaultAmpInCaps)
        #expect(parameter(codec, afg, .outputAmpCapabilities) == dump.defaultAmpOutCaps)
        #expect(parameter(codec, afg, .gpioCount) == dump.gpioCapabilities ?? 0)
        #expect(parameter(codec, afg, .supportedPowerStates) == dump.afgPowerStates ?? 0)
        for n in dump.nodes {
            #expect(parameter(codec, n.id, .audioWidgetCapabilities) == n.wcaps)
            #expect(parameter(codec, n.id, .pinCapabilities) == n.pinCaps)
            #expect(parameter(codec, n.id, .inputAmpCapabilities) == n.ampInCaps)
            #expect(parameter(codec, n.id, .outputAmpCapabilities) == n.ampOutCaps)
            #expect(parameter(codec, n.id, .supportedPCMSizeRates) == n.pcm ?? 0)
            #expect(parameter(codec, n.id, .supportedStreamFormats) == n.streamFormats ?? 0)
            #expect(parameter(codec, n.id, .supportedPowerStates) == n.powerStates ?? 0)
            #expect(parameter(codec, n.id, .processingCapabilities) == n.processingCaps ?? 0)
            #expect(parameter(codec, n.id, .volumeKnobCapabilities) == n.volumeKnobCaps ?? 0)
            #expect(Int(parameter(codec, n.id, .connectionListLength) & 0x7F) == n.connections.count)
            #expect(connectionList(codec, n.id) == n.connections, "node \(n.id)")
            if n.type == .pin { #expect(ask(codec, n.id, CodecVerb.getConfigDefault) == n.configDefault) }
        }
    }

    @Test("Re-printed from its answers (starting as Linux left it), every codec gives back its dump's lines", arguments: ShippedDumps.codecSpecs)
    func reprintGivesBackTheDump(_ spec: String) throws {
        let dump = try shipped(spec)
        let codec = DumpCodec(dump: dump, startFromDump: true)
        let printed = CodecDumpPrinter(codec: codec, address: codec.address, dump: dump).lines()
        let original = dump.sourceLines.filter { !$0.isEmpty }
        #expect(printed.count == original.count)
        for (k, (a, b)) in zip(original, printed).enumerated() where a != b {
            Issue.record("\(spec) line \(dump.line + k): dump '\(a)', re-print '\(b)'")
            break
        }
        #expect(dump.parameterLineDifference() == nil)
    }

    @Test("From reset, the re-print differs from the dump only in state lines", arguments: ShippedDumps.codecSpecs)
    func resetDiffersOnlyInState(_ spec: String) throws {
        let dump = try shipped(spec)
        let codec = DumpCodec(dump: dump)
        let printed = CodecDumpPrinter(codec: codec, address: codec.address, dump: dump).lines()
        let original = dump.sourceLines.filter { !$0.isEmpty }
        #expect(printed.count == original.count)
        let state = ["Amp-In vals:", "Amp-Out vals:", "Pin-ctls:", "EAPD ", "Unsolicited:", "Power:", "Converter:", "SDI-Select:",
                     "Digital:", "Digital category:", "IEC Coding Type:", "IO[", "Volume-Knob:"]
        for (a, b) in zip(original, printed) where a != b {
            let t = a.drop { $0 == " " }
            let isSelection = a.replacingOccurrences(of: "*", with: "") == b.replacingOccurrences(of: "*", with: "")
            #expect(isSelection || state.contains { t.hasPrefix($0) }, "\(spec): '\(a)' is not a state line")
        }
    }

    @Test("A few numbers read straight from the T530 dump's text")
    func t530Anchors() throws {
        let d = try shipped("alc269vc-lenovo-thinkpad-t530.txt#0")
        let codec = DumpCodec(dump: d)
        #expect(d.name == "Realtek ALC269VC" && d.vendorID == 0x10EC0269 && d.subsystemID == 0x17AA21F6 && d.revisionID == 0x100203)
        #expect(parameter(codec, 0x14, .pinCapabilities) == 0x0001_0014)
        #expect(ask(codec, 0x15, CodecVerb.getConfigDefault) == 0x0321_1020)
        #expect(parameter(codec, 0x08, .audioWidgetCapabilities) == 0x10051B)
        #expect(parameter(codec, 0x08, .inputAmpCapabilities) == 0x8002_3F17)   // ofs=0x17, nsteps=0x3f, stepsize=0x02, mute=1
        #expect(parameter(codec, 0x02, .supportedPCMSizeRates) == 0x000E_0560)
        #expect(parameter(codec, 0x20, .processingCapabilities) == 37 << 8)
        #expect(connectionList(codec, 0x22) == [0x18, 0x19, 0x1A, 0x1B, 0x1D, 0x0B, 0x12])
        #expect(parameter(codec, 0x01, .gpioCount) == 0x4000_0002)
        let hdmi = try shipped("alc269vc-lenovo-thinkpad-t530.txt#1")
        #expect(hdmi.vendorID == 0x10DE0014 && hdmi.address == 0)
        #expect(try shipped("alc269vc-lenovo-thinkpad-t530.txt#2").address == 1)
    }
}

@Suite("Codec dumps: reading the format")
struct CodecDumpParserTests {
    static let minimal = """
        Codec: Test Chip
        Address: 2
        AFG Function Id: 0x1 (unsol 1)
        Vendor Id: 0x12345678
        Subsystem Id: 0x0000abcd
        Revision Id: 0x100100
        No Modem Function Group found
        Default PCM:
            rates [0x60]: 44100 48000
            bits [0x2]: 16
            formats [0x1]: PCM
        Default Amp-In caps: N/A
        Default Amp-Out caps: N/A
        GPIO: io=0, o=0, i=0, unsolicited=0, wake=0
        Node 0x02 [Audio Output] wcaps 0x41d: Stereo Amp-Out
          Amp-Out caps: ofs=0x40, nsteps=0x40, stepsize=0x03, mute=1
          Amp-Out vals:  [0x40 0x40]
          Converter: stream=0, channel=0
          PCM:
            rates [0x60]: 44100 48000
            bits [0x2]: 16
            formats [0x1]: PCM
          Power states:  D0 D3
          Power: setting=D0, actual=D0
        Node 0x03 [Pin Complex] wcaps 0x40050c: Mono Amp-Out
          Amp-Out caps: ofs=0x00, nsteps=0x00, stepsize=0x00, mute=1
          Amp-Out vals:  [0x80]
          Pincap 0x00000010: OUT
          Pin Default 0x01014010: [Jack] Line Out at Ext Rear
            Conn = 1/8, Color = Green
            DefAssociation = 0x1, Sequence = 0x0
          Pin-ctls: 0x40: OUT
          Power states:  D0 D3
          Power: setting=D0, actual=D0
          Connection: 1
             0x02

        """

    @Test("A file that is not a codec dump is a clear error at no line")
    func notADump() {
        #expect(throws: CodecDumpError.self) { try CodecDump.parseAll("hello\nworld\n") }
        do { _ = try CodecDump.parseAll("RIFF....WAVE") } catch { #expect(error.line == 0 && error.reason.contains("not a codec dump")) }
    }

    @Test("An unreadable number names its line and what was expected")
    func errorsNameTheLine() {
        let bad = Self.minimal.replacingOccurrences(of: "Pincap 0x00000010: OUT", with: "Pincap zz: OUT")
        do {
            _ = try CodecDump.parseAll(bad)
            Issue.record("no error")
        } catch {
            #expect(error.line == 28)
            #expect(error.reason.contains("Pincap 0x<hex>"))
        }
        let wrongCount = Self.minimal.replacingOccurrences(of: "Connection: 1", with: "Connection: 3")
        do { _ = try CodecDump.parseAll(wrongCount); Issue.record("no error") } catch {
            #expect(error.line == 36 && error.reason.contains("3 connection entries"))
        }
    }

    @Test("Nodes out of order are refused, naming the node's line")
    func nodeOrder() {
        let swapped = Self.minimal.replacingOccurrences(of: "Node 0x03", with: "Node 0x01")
        do { _ = try CodecDump.parseAll(swapped); Issue.record("no error") } catch { #expect(error.line == 25) }
    }

    @Test("A codec without a Vendor Id line is an error at its first line")
    func missingVendor() {
        let text = Self.minimal.replacingOccurrences(of: "Vendor Id: 0x12345678\n", with: "")
        do { _ = try CodecDump.parseAll(text); Issue.record("no error") } catch { #expect(error.line == 1 && error.reason.contains("Vendor Id")) }
    }

    @Test("Wrapped in other text, with CRLF line ends, two codecs: both read; #N picks one")
    func wrappersAndSeveralCodecs() throws {
        let second = Self.minimal.replacingOccurrences(of: "Address: 2", with: "Address: 3")
        let text = "!!alsa-info\r\nsome: thing\r\n" + (Self.minimal + second).replacingOccurrences(of: "\n", with: "\r\n")
            + "Simple mixer control 'Master',0\r\n  Capabilities: pvolume\r\n"
        let all = try CodecDump.parseAll(text)
        #expect(all.map(\.address) == [2, 3])
        #expect(all[0].nodes.map(\.id) == [2, 3])
        #expect(try CodecDump.parse(text, index: 1).address == 3)
        #expect(throws: CodecDumpError.self) { try CodecDump.parse(text, index: 2) }
    }

    @Test("An older kernel's modem codec ('Function Id: 0x2', 'Modem Function Group: 0x2'): the modem group at node 2, re-printed as dumped")
    func olderModemCodec() throws {
        let lines = ["Codec: Conexant ID 2bfa", "Address: 1", "Function Id: 0x2", "Vendor Id: 0x14f12bfa",
                     "Subsystem Id: 0x1025007f", "Revision Id: 0x90000", "Modem Function Group: 0x2"]
        let d = try CodecDump.parse(lines.joined(separator: "\n") + "\n")
        #expect(d.afgFunctionType == nil && d.mfgFunctionType == 2 && d.mfgNode == 2)
        let codec = DumpCodec(dump: d, address: 0)
        #expect(parameter(codec, 0, .subordinateNodeCount) == 0x0002_0001)
        #expect(parameter(codec, 2, .functionGroupType) & 0xFF == 2)
        #expect(ask(codec, 2, CodecVerb.getSubsystemID) == 0x1025_007F)
        let own = DumpCodec(dump: d)
        #expect(own.address == 1 && CodecDumpPrinter(codec: own, address: 1, dump: d).lines() == lines)
        #expect(d.parameterLineDifference() == nil)
    }

    @Test("Reserved Vref bits (3, 6, 7 of the pin caps' Vref field) print no 'Vref caps:' line, as Linux prints none")
    func reservedVrefBits() throws {
        let d = try CodecDump.parse(Self.minimal.replacingOccurrences(of: "Pincap 0x00000010: OUT", with: "Pincap 0x0000c810: OUT"))
        let codec = DumpCodec(dump: d, startFromDump: true)
        let lines = CodecDumpPrinter(codec: codec, address: codec.address, dump: d).lines()
        #expect(lines.contains("  Pincap 0x0000c810: OUT") && !lines.contains { $0.contains("Vref caps:") })
        #expect(d.parameterLineDifference() == nil)
        let named = try CodecDump.parse(Self.minimal.replacingOccurrences(of: "Pincap 0x00000010: OUT", with: "Pincap 0x00003710: OUT"))
        let namedCodec = DumpCodec(dump: named, startFromDump: true)
        #expect(CodecDumpPrinter(codec: namedCodec, address: namedCodec.address, dump: named).lines().contains("    Vref caps: HIZ 50 GRD 80 100"))
    }

    @Test("Older kernels' 'Pincap 0x08%x' (a typo for %08x): fewer than eight digits after 0x08 are the value")
    func olderPincapFormat() throws {
        for (printed, value) in [("0x0814", 0x14 as UInt32), ("0x081003f", 0x1003F), ("0x08173f", 0x173F), ("0x080", 0), ("0x00000814", 0x814)] {
            let d = try CodecDump.parse(Self.minimal.replacingOccurrences(of: "Pincap 0x00000010: OUT", with: "Pincap \(printed): OUT"))
            #expect(d.node(3)?.pinCaps == value, "\(printed)")
        }
    }

    @Test("Older kernels' one-line PCM ('PCM: rates 0x060, bits 0x02, types 0x5'), for the group and a node")
    func olderOneLinePCM() throws {
        let block = "    rates [0x60]: 44100 48000\n    bits [0x2]: 16\n    formats [0x1]: PCM\n"
        var text = Self.minimal.replacingOccurrences(of: "Default PCM:\n" + block, with: "Default PCM: rates 0x07f, bits 0x0e, types 0x1 \n")
        text = text.replacingOccurrences(of: "  PCM:\n" + block, with: "  PCM: rates 0x060, bits 0x02, types 0x5\n")
        let d = try CodecDump.parse(text)
        #expect(d.defaultPCM == 0x000E_007F && d.defaultStreamFormats == 1)
        #expect(d.node(2)?.pcm == 0x0002_0060 && d.node(2)?.streamFormats == 5)
        #expect(throws: CodecDumpError.self) { try CodecDump.parse(text.replacingOccurrences(of: "types 0x5", with: "kinds 0x5")) }
        let blank = try CodecDump.parse(Self.minimal.replacingOccurrences(of: "Default PCM:\n", with: "Default PCM:    \n"))
        #expect(blank.defaultPCM == 0x0002_0060, "trailing spaces: the newer form, its lines follow")
    }

    @Test("Numbers land in the fields the specification gives them")
    func fieldPacking() throws {
        let d = try CodecDump.parse(Self.minimal)
        #expect(d.address == 2 && d.afgFunctionType == 0x101 && d.subsystemID == 0xABCD)
        #expect(d.defaultPCM == 0x0002_0060 && d.defaultStreamFormats == 1)
        let dac = try #require(d.node(2)), pin = try #require(d.node(3))
        #expect(dac.ampOutCaps == 0x8003_4040 && dac.powerStates == 0x9 && dac.channels == 2)
        #expect(pin.configDefault == 0x0101_4010 && pin.pinCaps == 0x10 && pin.connections == [2] && pin.state.pinControl == 0x40)
        #expect(pin.state.ampOut == [0x80])
    }

    @Test("Garbage never crashes the reader", arguments: 0..<200)
    func garbageNeverCrashes(_ seed: Int) {
        var rng = SeededRandom(seed: UInt64(seed))
        var lines = Self.minimal.split(separator: "\n").map(String.init)
        for _ in 0..<4 {
            let i = Int(rng.next() % UInt64(lines.count))
            var chars = Array(lines[i])
            if !chars.isEmpty { chars[Int(rng.next() % UInt64(chars.count))] = Character(UnicodeScalar(UInt8(32 + rng.next() % 95))) }
            lines[i] = String(chars)
        }
        if let d = try? CodecDump.parse(lines.joined(separator: "\n")) {
            let codec = DumpCodec(dump: d)
            _ = CodecDumpPrinter(codec: codec, address: codec.address, dump: d).lines()
        }
    }
}

@Suite("Codec dump comparison: a driver's printout against the dump")
struct CodecDumpComparisonTests {
    func reprint(_ spec: String) throws -> [String] {
        let dump = try shipped(spec)
        let codec = DumpCodec(dump: dump, startFromDump: true)
        return CodecDumpPrinter(codec: codec, address: codec.address, dump: dump).lines()
    }

    @Test("A printout equal to the dump matches in every parameter line and excludes nothing")
    func equal() throws {
        let lines = try reprint("alc269vc-lenovo-thinkpad-t530.txt#0")
        let c = CodecDumpComparison(expected: lines, actual: lines)
        #expect(c.parametersMatch && c.excluded.isEmpty && c.printedOnly.isEmpty)
        #expect(c.parameterLines == lines.filter(CodecDump.isParameterLine).count)
    }

    @Test("A changed parameter line is a difference at its node; changed state lines are excluded by field")
    func changes() throws {
        let lines = try reprint("alc269vc-lenovo-thinkpad-t530.txt#0")
        var changed = lines
        let pincap = try #require(changed.firstIndex { $0.contains("Pincap 0x") })
        changed[pincap] = changed[pincap].replacing("Pincap 0x", with: "Pincap 0x1")
        for (i, l) in changed.enumerated() where l.contains("Pin-ctls:") || l.contains("Amp-Out vals:") { changed[i] = l + " x" }
        let c = CodecDumpComparison(expected: lines, actual: changed)
        #expect(!c.parametersMatch)
        #expect(c.differences.count == 1)
        let node = lines[..<pincap].last { $0.hasPrefix("Node 0x") }
        #expect(c.differences.first.map { "node 0x" + String($0.node ?? 0, radix: 16).leftPadded(2) } == node.map { "node " + String($0.dropFirst(5).prefix(4)) })
        #expect(c.differences.first?.expected == lines[pincap] && c.differences.first?.actual == changed[pincap])
        #expect(c.excluded["Pin-ctls"] == lines.filter { $0.contains("Pin-ctls:") }.count)
        #expect(c.excluded["Amp-Out vals"] == lines.filter { $0.contains("Amp-Out vals:") }.count)
    }

    @Test("A moved selection mark is excluded; a missing parameter line is a difference; a line only printed is listed apart")
    func alignment() throws {
        let lines = try reprint("alc269vc-lenovo-thinkpad-t530.txt#0")
        var changed = lines
        let list = try #require(changed.firstIndex { $0.hasPrefix("     0x") && $0.contains("*") && $0.split(separator: " ").count > 1 })
        let marked = changed[list].split(separator: " ").firstIndex { $0.contains("*") } ?? 0
        let entries = changed[list].split(separator: " ").map { String($0).replacing("*", with: "") }
        let moved = marked == 0 ? 1 : 0
        changed[list] = "     " + entries.enumerated().map { $0.offset == moved ? $0.element + "*" : $0.element }.joined(separator: " ")
        let header = try #require(changed.firstIndex { $0.hasPrefix("Revision Id:") })
        changed.insert("State of AFG node 0x01:", at: header + 1)
        changed.insert("  Power states: ", at: header + 2)
        let vref = try #require(changed.lastIndex { $0.contains("Vref caps:") })
        changed.remove(at: vref)
        let c = CodecDumpComparison(expected: lines, actual: changed)
        #expect(c.excluded["Connection selection"] == 1)
        #expect(c.printedOnly.map(\.actual) == ["State of AFG node 0x01:", "  Power states: "])
        #expect(c.differences.count == 1 && c.differences.first?.actual == nil && c.differences.first?.expected?.contains("Vref caps:") == true)
    }
}
