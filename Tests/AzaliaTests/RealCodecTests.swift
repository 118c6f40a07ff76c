import Foundation
import Testing
@testable import Azalia
import HDACodec
import HDAudio
import TestSupport

/// One shipped codec and one interface version.
struct RealCodecCase: CustomTestStringConvertible, Sendable {
    var spec: String
    var interface: DDIInterface
    var testDescription: String { "\(spec) over \(interface.rawValue)" }

    func dump() throws -> CodecDump {
        let parts = spec.split(separator: "#")
        return try CodecDump.parse(ShippedDumps.text(String(parts[0])), index: Int(parts[1]) ?? 0)
    }
}

/// Every shipped codec that has an output path (and, for capture, an input path), over every interface.
func realCodecCases(input: Bool) -> [RealCodecCase] {
    ShippedDumps.codecSpecs.flatMap { spec -> [RealCodecCase] in
        guard let d = try? RealCodecCase(spec: spec, interface: .v2).dump() else { return [] }
        let graph = CodecGraph(dump: d)
        guard input ? graph.defaultInput != nil : graph.defaultOutput != nil else { return [] }
        return DDIInterface.allCases.map { RealCodecCase(spec: spec, interface: $0) }
    }
}

@Suite("Real codecs: audio through a dumped chip's paths")
struct RealCodecPathTests {
    /// A stereo 48 kHz 16-bit noise file: every shipped analog codec and HDMI codec takes it.
    func noise(_ seed: UInt64) -> WAVFile {
        noiseWAV(WAVFormat(StreamFormat(rate: 48000, bits: 16, channels: 2)), blocks: 2400 + 7, seed: seed)
    }

    @Test("Every shipped codec with an output path plays bit-exact through it", arguments: realCodecCases(input: false))
    func playIsBitExact(_ c: RealCodecCase) throws {
        var options = AudioPathOptions()
        options.interface = c.interface
        options.codecDump = try c.dump()
        let wav = noise(UInt64(c.spec.count))
        let result = try AudioPath.play(wav, options: options)
        #expect(result.output.data == wav.data)
        #expect(result.report.bitExact && result.report.codecFormatMismatches == 0)
    }

    @Test("Every shipped codec with an input path records bit-exact through it", arguments: realCodecCases(input: true))
    func recordIsBitExact(_ c: RealCodecCase) throws {
        var options = AudioPathOptions()
        options.interface = c.interface
        options.codecDump = try c.dump()
        let wav = noise(UInt64(c.spec.count) + 1)
        let result = try AudioPath.record(from: wav, options: options)
        #expect(result.output.data == wav.data)
        #expect(result.report.bitExact)
    }

    @Test("The shipped cases cover every file's analog codec, play and record, and the HDMI codecs for play")
    func casesCoverTheShippedDumps() {
        let play = Set(realCodecCases(input: false).map(\.spec)), record = Set(realCodecCases(input: true).map(\.spec))
        for f in ShippedDumps.files { #expect(play.contains("\(f)#0") && record.contains("\(f)#0"), "\(f)") }
        #expect(play.contains("alc282-asus-tx300ca.txt#1") && !record.contains("alc282-asus-tx300ca.txt#1"))
    }

    @Test("A codec without an input path refuses a recording with a clear reason")
    func noInputPath() throws {
        var options = AudioPathOptions()
        options.codecDump = try RealCodecCase(spec: "alc282-asus-tx300ca.txt#1", interface: .v2).dump()
        #expect { try AudioPath.record(from: noise(1), options: options) } throws: { error in
            "\(error)".contains("input path")
        }
    }

    @Test("The function driver finds the same paths by verbs as the graph finds in the dump", arguments: ShippedDumps.codecSpecs)
    func driverWalksTheGraph(_ spec: String) throws {
        let dump = try RealCodecCase(spec: spec, interface: .v2).dump()
        let system = try AzaliaSystem(codecs: [0: DumpCodec(dump: dump, address: 0)])
        let programmer = CodecProgrammer(sender: DirectVerbSender(platform: system.platform), address: 0)
        let topology = try programmer.discover()
        let graph = CodecGraph(dump: dump)
        #expect(topology.output == graph.defaultOutput)
        #expect(topology.input == graph.defaultInput)
        #expect(topology.dacs == graph.dacs && topology.adcs == graph.adcs)
        #expect(topology.graph.widgets.map(\.connections) == graph.widgets.map(\.connections))
    }

    @Test("Azalia's own codec still plays through DAC 0 and its first line-out pin")
    func virtualCodecPaths() throws {
        let system = try AzaliaSystem(codecs: [0: VirtualCodec(address: 0)])
        let topology = try CodecProgrammer(sender: DirectVerbSender(platform: system.platform), address: 0).discover()
        let codec = VirtualCodec(address: 0)
        #expect(topology.output?.converter == codec.dacNodes[0] && topology.output?.pin == codec.outputPinNodes[0])
        #expect(topology.input?.converter == codec.adcNodes[0] && topology.input?.pin == codec.inputPinNodes[0])
    }
}

@Suite("Real codecs: the azalia codec command and --codec")
struct RealCodecCLITests {
    @Test("azalia codec prints the graph: pins with device and location, paths, the default paths")
    func graph() throws {
        let r = try azalia("codec", ShippedDumps.path("alc269vc-lenovo-thinkpad-t530.txt"))
        #expect(r.status == 0)
        #expect(r.stdout.contains("Realtek ALC269VC: vendor 0x10ec0269"))
        #expect(r.stdout.contains("0x15  HP Out") && r.stdout.contains("Ext Left"))
        #expect(r.stdout.contains("Default output: 0x02 -> 0x0c -> 0x14  Speaker at Int N/A"))
        #expect(r.stdout.contains("Default input:  0x12 -> 0x22 -> 0x09  Mic at Int N/A"))
    }

    @Test("azalia codec FILE#N --json names the codec and its default paths")
    func json() throws {
        let r = try azalia("codec", ShippedDumps.path("alc282-asus-tx300ca.txt") + "#1", "--json")
        #expect(r.status == 0)
        let o = try jsonObject(r.stdout)
        #expect(o["name"] as? String == "Intel PantherPoint HDMI")
        #expect((o["defaultOutput"] as? [String: Any])?["pinDevice"] as? String == "Digital Out")
        #expect(o["defaultInput"] == nil)
    }

    @Test("azalia codec --dump re-prints the dump's own lines")
    func dump() throws {
        let file = "cx20585-lenovo-thinkpad-t410s.txt"
        let r = try azalia("codec", ShippedDumps.path(file), "--dump")
        #expect(r.status == 0)
        let original = try CodecDump.parse(ShippedDumps.text(file)).sourceLines.filter { !$0.isEmpty }
        #expect(r.stdout.split(separator: "\n").map(String.init) == original)
    }

    @Test("azalia codec --check sweeps a folder: the shipped dumps all load and round-trip")
    func check() throws {
        let r = try azalia("codec", "--check", ShippedDumps.folderPath)
        #expect(r.status == 0)
        let total = ShippedDumps.codecCounts.values.reduce(0, +)
        #expect(r.stdout.contains("Codecs loaded: \(total); failures: 0"))
        #expect(r.stdout.contains("\(total) of \(total)"))
    }

    @Test("A broken dump in a swept folder is reported by file, line and reason, with exit 1")
    func checkReportsFailures() throws {
        let dir = try temporaryDirectory()
        let text = try ShippedDumps.text("ad1984a-dell-optiplex-360.txt").replacing("Pincap 0x0000001f", with: "Pincap 0xZZ")
        try text.write(to: dir.appendingPathComponent("broken.txt"), atomically: true, encoding: .utf8)
        try "just notes".write(to: dir.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let r = try azalia("codec", "--check", dir.path)
        #expect(r.status == 1)
        #expect(r.stdout.contains("FAIL broken.txt: line "))
        #expect(r.stdout.contains("Pincap 0x<hex>"))
        #expect(r.stdout.contains("1 without, skipped"))
    }

    @Test("A file that is not a dump, or a missing one, is one line and exit 1")
    func badFiles() throws {
        let missing = try azalia("codec", "/nonexistent/codec#0")
        #expect(missing.status == 1 && missing.stderr.contains("no such file"))
        let dir = try temporaryDirectory()
        let path = try writeTestFile(Array("RIFF nonsense".utf8), dir, "x.wav")
        let r = try azalia("demo", "--codec", path)
        #expect(r.status == 1 && r.stderr.contains("not a codec dump") && r.stderr.split(separator: "\n").count == 1)
    }

    @Test("azalia demo --codec runs the loopback bit-exact through a real codec")
    func demoWithCodec() throws {
        let r = try azalia("demo", "--codec", ShippedDumps.path("idt92hd81b1x5-hp-probook-6570b.txt"), "--seconds", "0.2", "--interface", "bdl")
        #expect(r.status == 0)
        #expect(r.stdout.contains("Captured == rendered: yes"))
    }
}

/// The converters of `dump` (DACs or ADCs) whose PCM bits list `rate` and `bits`, read
/// straight from the dump's numbers (the node's own PCM with format override, else the
/// function group's), by node id in hex.
func convertersListing(_ dump: CodecDump, output: Bool, rate: UInt32, bits: UInt16) -> [String] {
    let rateBit = [8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000, 176400, 192000, 384000].firstIndex(of: Int(rate))!
    let sizeBit = [8, 16, 20, 24, 32].firstIndex(of: Int(bits))! + 16
    return dump.nodes.filter { n in
        guard n.type == (output ? .audioOutput : .audioInput) else { return false }
        let pcm = (n.wcaps & 0x10 != 0 ? n.pcm : nil) ?? dump.defaultPCM ?? 0
        return pcm >> UInt32(rateBit) & 1 == 1 && pcm >> UInt32(sizeBit) & 1 == 1
    }.map { "0x" + String($0.id, radix: 16, uppercase: true).leftPadded(2) }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}

@Suite("Real codecs: azalia plan and azalia vm take --codec")
struct RealCodecPlanVMTests {
    static let t530 = ShippedDumps.path("alc269vc-lenovo-thinkpad-t530.txt")

    @Test("plan --codec: each stream at the dump's address lists the dump's converters that take its format")
    func planMatchesConverters() throws {
        let r = try azalia("plan", "--codec", Self.t530, "--json", "--render", "48000/16/2", "--render", "192000/32/8",
                           "--render", "96000/24/2", "--capture", "0:44100/16/2", "--capture", "1:48000/16/2")
        #expect(r.status == 0)
        let object = try jsonObject(r.stdout)
        #expect(object["codec"] as? String == "Realtek ALC269VC")
        let streams = try #require(object["streams"] as? [[String: Any]])
        let dump = try CodecDump.parse(ShippedDumps.text("alc269vc-lenovo-thinkpad-t530.txt"))
        func nodes(_ k: Int) -> [String]? { (streams[k]["converters"] as? [[String: Any]])?.compactMap { $0["node"] as? String } }
        #expect(nodes(0) == convertersListing(dump, output: true, rate: 48000, bits: 16))
        #expect(nodes(0)?.isEmpty == false && streams[0]["convertersCoverStream"] as? Bool == true)
        #expect(nodes(1) == convertersListing(dump, output: true, rate: 192000, bits: 32))
        #expect(streams[1]["convertersCoverStream"] as? Bool == (nodes(1)?.isEmpty == false && nodes(1)!.count * 2 >= 8))
        #expect(nodes(2) == convertersListing(dump, output: true, rate: 96000, bits: 24))
        #expect(nodes(3) == convertersListing(dump, output: false, rate: 44100, bits: 16))
        #expect(nodes(3)?.isEmpty == false)
        #expect(streams[4]["converters"] == nil, "address 1 holds Azalia's own codec, not the dump")
        #expect(streams[4]["status"] as? String == "STATUS_SUCCESS")
    }

    @Test("plan --codec prints the converters under each stream and names the codec")
    func planText() throws {
        let r = try azalia("plan", "--codec", Self.t530, "--render", "48000/16/2", "--capture", "0:48000/16/2")
        #expect(r.status == 0)
        let dump = try CodecDump.parse(ShippedDumps.text("alc269vc-lenovo-thinkpad-t530.txt"))
        #expect(r.stdout.contains("Realtek ALC269VC at address 0"))
        let dacs = convertersListing(dump, output: true, rate: 48000, bits: 16).map { "\($0) (2 ch)" }.joined(separator: ", ")
        #expect(r.stdout.contains("codec: DACs taking 48000/16/2: " + dacs))
        #expect(r.stdout.contains("codec: ADCs taking 48000/16/2: "))
    }

    @Test("plan and vm: a --codec that is missing or not a dump is one line and exit 1, before any guest is built", arguments: [
        ["plan", "--render", "48000/16/2"], ["vm", "--play", "/nonexistent/x.wav"],
    ])
    func badCodec(_ arguments: [String]) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = dir.appendingPathComponent("guest-cache").path
        let extra = arguments[0] == "vm" ? ["--cache", cache] : []
        let missing = try azalia(arguments: arguments + extra + ["--codec", "/nonexistent/codec.txt"])
        #expect(missing.status == 1 && errorLine(missing)?.contains("/nonexistent/codec.txt: no such file") == true)
        let notDump = try writeTestFile(Array("hello\nworld\n".utf8), dir, "notes.txt")
        let bad = try azalia(arguments: arguments + extra + ["--codec", notDump])
        #expect(bad.status == 1 && errorLine(bad)?.contains("not a codec dump") == true)
        #expect(!FileManager.default.fileExists(atPath: cache), "no guest was built")
    }

    @Test("vm: --codec needs Azalia's device, and --help describes it")
    func vmArguments() throws {
        let qemu = try azalia("vm", "--play", "x.wav", "--device", "qemu", "--codec", Self.t530)
        #expect(qemu.status == 64 && qemu.stderr.contains("--codec needs --device azalia"))
        let help = try azalia("vm", "--help")
        #expect(help.status == 0 && help.stdout.contains("--codec <file[#n]>") && help.stdout.contains("snd-hda-codec-realtek"))
    }
}
