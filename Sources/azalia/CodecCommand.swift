import ArgumentParser
import Foundation
import HDACodec

/// `azalia codec`: a real codec from its Linux dump, as a graph, or a sweep over a folder of dumps.
struct CodecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract: "Load a real codec from its Linux dump (/proc/asound/cardN/codec#M) and show its widget graph.",
        discussion: """
            FILE is a codec#M file, an alsa-info report or any text holding one or more codec dumps
            (as in hda-emu's codecs/ folder); FILE#N takes the N-th codec of the file (0-based). The
            graph lists the converters and pins (with default device, location and connectivity from
            the pin's default configuration), every path from a DAC to a pin and from a pin to an
            ADC, and the default output and input paths Azalia's function driver takes. --dump
            re-prints the codec in the same format, every number asked of the loaded codec with
            verbs. --check DIR reads every file under DIR: files without a 'Codec:' line are
            skipped, each codec must load, and each is re-printed and compared with its dump's
            parameter lines; failures are listed by file, line and reason (exit 1 if any).

            Examples:
              azalia codec alc269-thinkpad-t530.txt
              azalia codec alsa-info.txt#1 --json
              azalia codec alc269-thinkpad-t530.txt --dump
              azalia codec --check ~/hda-emu/codecs
            """)

    @Argument(help: "The dump: FILE or FILE#N.")
    var file: String?

    @Option(help: "Read every file under this folder as codec dumps and report what fails.")
    var check: String?

    @Flag(help: "Re-print the loaded codec in the dump format (numbers asked through verbs).")
    var dump = false

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard (file == nil) != (check == nil) else { throw ValidationError("give either FILE[#N] or --check DIR") }
    }

    func run() throws {
        try reportingFailures {
            if let check { try sweep(check); return }
            let codecDump: CodecDump
            codecDump = try loadCodecDump(file ?? "")
            if dump {
                let codec = DumpCodec(dump: codecDump, startFromDump: true)
                print(CodecDumpPrinter(codec: codec, address: codec.address, dump: codecDump).text(), terminator: "")
                return
            }
            let report = CodecGraphReport(codecDump)
            if json { try printJSON(report) } else { report.printText() }
        }
    }

    func sweep(_ folder: String) throws {
        let s: CodecDumpSweep
        do throws(CodecDumpError) { s = try CodecDumpSweep.run(folder: folder) } catch { throw CLIFailure(error.reason) }
        if json {
            try printJSON(s)
        } else {
            print("Files: \(s.files) (\(s.dumpFiles) with codec dumps, \(s.otherFiles) without, skipped)")
            print("Codecs loaded: \(s.codecs); failures: \(s.failures.count)")
            for f in s.failures { print("  FAIL \(f.file): \(f.line > 0 ? "line \(f.line): " : "")\(f.reason)") }
            print("Re-printed with every parameter line equal to the dump's: \(s.roundTrips) of \(s.codecs)")
            for f in s.roundTripDifferences.prefix(50) { print("  differs \(f.file): line \(f.line): \(f.reason)") }
            if s.roundTripDifferences.count > 50 { print("  ... and \(s.roundTripDifferences.count - 50) more (--json lists all)") }
        }
        if !s.failures.isEmpty { throw ExitCode(1) }
    }
}

/// A codec's graph as a person reads it (and as `--json` prints it).
struct CodecGraphReport: Encodable {
    struct Pin: Encodable {
        var node: String
        var device: String
        var location: String
        var connectivity: String
        var connection: String
        var color: String
        var configDefault: String
        var capabilities: [String]
    }
    struct Path: Encodable {
        var nodes: [String]
        var converter: String
        var pin: String
        var pinDevice: String
        var pinLocation: String
    }
    var name: String
    var vendorID: String
    var subsystemID: String
    var revisionID: String
    var address: Int
    var nodes: Int
    var dacs: [String]
    var adcs: [String]
    var pins: [Pin]
    var outputPaths: [Path]
    var inputPaths: [Path]
    var defaultOutput: Path?
    var defaultInput: Path?

    static func hex(_ v: UInt8) -> String { "0x" + String(v, radix: 16).leftPad(2) }

    init(_ dump: CodecDump) {
        let graph = CodecGraph(dump: dump)
        name = dump.name
        vendorID = "0x" + String(dump.vendorID, radix: 16).leftPad(8)
        subsystemID = "0x" + String(dump.subsystemID, radix: 16).leftPad(8)
        revisionID = "0x" + String(dump.revisionID, radix: 16)
        address = Int(dump.address)
        nodes = dump.nodes.count
        dacs = graph.dacs.map(Self.hex)
        adcs = graph.adcs.map(Self.hex)
        pins = graph.widgets.filter { $0.type == .pin }.map { w in
            let d = PinDefault(w.configDefault)
            var caps: [String] = []
            if w.isInputPin { caps.append("in") }
            if w.isOutputPin { caps.append("out") }
            if w.pinCaps & WidgetBits.pinDetect != 0 { caps.append("detect") }
            if w.pinCaps & WidgetBits.pinEAPD != 0 { caps.append("eapd") }
            return Pin(node: Self.hex(w.id), device: d.device, location: d.location, connectivity: d.portConnectivity,
                       connection: d.connection, color: d.color, configDefault: "0x" + String(w.configDefault, radix: 16).leftPad(8),
                       capabilities: caps)
        }
        func path(_ p: CodecGraph.Path, output: Bool) -> Path {
            let d = PinDefault(graph.widget(p.pin)?.configDefault ?? 0)
            return Path(nodes: (output ? p.nodes.reversed() : p.nodes.reversed()).map(Self.hex), converter: Self.hex(p.converter),
                        pin: Self.hex(p.pin), pinDevice: d.device, pinLocation: d.location)
        }
        outputPaths = graph.outputPaths.map { path($0, output: true) }
        inputPaths = graph.inputPaths.map { path($0, output: false) }
        defaultOutput = graph.defaultOutput.map { path($0, output: true) }
        defaultInput = graph.defaultInput.map { path($0, output: false) }
    }

    func printText() {
        print("\(name): vendor \(vendorID), subsystem \(subsystemID), revision \(revisionID), address \(address), \(nodes) widgets")
        print("DACs: \(dacs.isEmpty ? "none" : dacs.joined(separator: " "))    ADCs: \(adcs.isEmpty ? "none" : adcs.joined(separator: " "))")
        print("Pins:")
        for p in pins {
            print("  \(p.node)  \(pad(p.device, 12)) \(pad("[\(p.connectivity)]", 8)) \(pad(p.location, 16)) \(pad(p.connection + ", " + p.color, 18)) \(p.capabilities.joined(separator: " "))  (\(p.configDefault))")
        }
        func line(_ p: Path) -> String { "\(p.nodes.joined(separator: " -> "))  \(p.pinDevice) at \(p.pinLocation)" }
        print("Output paths (DAC -> pin):")
        if outputPaths.isEmpty { print("  none") }
        for p in outputPaths { print("  " + line(p)) }
        print("Input paths (pin -> ADC):")
        if inputPaths.isEmpty { print("  none") }
        for p in inputPaths { print("  " + line(p)) }
        print("Default output: \(defaultOutput.map(line) ?? "none")")
        print("Default input:  \(defaultInput.map(line) ?? "none")")
    }
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
