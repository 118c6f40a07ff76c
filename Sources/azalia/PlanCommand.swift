import ArgumentParser
import Azalia
import Foundation
import HDACodec
import HDAController
import HDAudio
import HDAudioBus

/// `azalia plan`: allocate streams through the real DDI and show what fits on the link.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Allocate the listed streams in order through the real DDI and show what each got and what is left of the link.",
        discussion: """
            Each --render and --capture asks for one engine, in the order given on the command line, \
            through AllocateRenderDmaEngine / AllocateCaptureDmaEngine on a freshly started bus. For \
            each the status (name and value) is printed, and for those that succeeded the engine taken \
            (kind, index, tag, converter format) and the bandwidth charged. Then every SDO and SDI line \
            and each engine's FIFO use against its budget (OUTPAY / INPAY x 16 bits per line, \
            OUTSTRMPAY / INSTRMPAY words per engine). A refusal is an answer, not an error: the exit \
            status is 0 when every request could be put to the DDI.

            --render FORMAT or FORMAT:stripe (striped over every SDO line).
            --capture ADDRESS:FORMAT or FORMAT (codec address 0). A virtual codec sits at every \
            address named (and at 0), or at the addresses --codecs lists (a capture at an address \
            with no codec is refused by the DDI with STATUS_INVALID_PARAMETER). --codec FILE[#N] puts \
            a real chip's Linux dump at address 0 instead, and each stream it carries is matched \
            against its converters: the DACs (render) or ADCs (capture) whose PCM parameters list the \
            rate and size, and whether their channels cover the stream.
            FORMAT is RATE/BITS/CHANNELS (or RATE/BITSinCONTAINER/CHANNELS).
            Profiles: \(ControllerProfile.all.map(\.name).joined(separator: ", ")).

            Examples:
              azalia plan --render 48000/16/2 --capture 0:48000/16/2
              azalia plan --render 192000/32/8 --render 96000/24/2 --capture 0:48000/16/2
              azalia plan --profile azalia-bidi --render 192000/16/8:stripe --json
              azalia plan --codec alc269-thinkpad-t530.txt --render 48000/16/2 --render 192000/32/8
            """)

    @Option(help: "Controller profile.")
    var profile: ControllerProfile = .default

    @Option(help: "A render stream: FORMAT or FORMAT:stripe. Repeatable.")
    var render: [String] = []

    @Option(help: "A capture stream: ADDRESS:FORMAT or FORMAT. Repeatable.")
    var capture: [String] = []

    @Option(help: "Codec addresses with a codec, comma-separated (default: 0 and every capture address named).")
    var codecs: String?

    @OptionGroup var codec: CodecOption

    @Option(help: "Write a Chrome trace event file of the DDI calls.")
    var trace: String?

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard !render.isEmpty || !capture.isEmpty else {
            throw ValidationError("give at least one --render or --capture stream")
        }
    }

    /// One request's outcome, as JSON shows it.
    struct Outcome: Encodable {
        var request: String
        var direction: String
        var format: String
        var stripe: Bool
        var codecAddress: Int?
        var status: String
        var statusValue: String
        var engine: Engine?
        /// With --codec, at the dump's address: the converters that take the format.
        var converters: [Converter]?
        /// With --codec: their channels cover the stream's.
        var convertersCoverStream: Bool?
    }

    /// A converter of the dump.
    struct Converter: Encodable {
        var node: String
        var channels: Int
    }

    /// The engine a request got.
    struct Engine: Encodable {
        var index: Int
        var kind: String
        var tag: Int
        var converterFormat: String
        var lines: String
        var bitsPerLine: Int
        var fifoWords: Int
        var fifoBudget: Int
    }

    /// A line's use.
    struct Line: Encodable {
        var line: String
        var used: Int
        var budget: Int
    }

    /// The JSON report.
    struct Report: Encodable {
        var profile: String
        var codec: String?
        var streams: [Outcome]
        var sdo: [Line]
        var sdi: [Line]
    }

    func run() throws {
        try reportingFailures {
            let requests = try orderedRequests()
            var addresses = Set([0] + requests.filter { $0.direction == .capture }.map(\.codecAddress))
            if let codecs {
                let list = codecs.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !list.isEmpty, list.allSatisfy({ $0.map { (0...14).contains($0) } ?? false }) else {
                    throw CLIFailure("--codecs \(codecs): give codec addresses 0 to 14, comma-separated")
                }
                addresses = Set(list.compactMap { $0 })
            }
            let recorder = trace == nil ? nil : TraceRecorder()
            let dump = try codec.load()
            let plan: LinkPlan
            do {
                plan = try LinkPlan.make(profile: profile, requests: requests, codecAddresses: addresses, codecDump: dump, trace: recorder)
            } catch {
                throw CLIFailure("the bus refused: \(error)")
            }
            try writeTrace(recorder, to: trace)
            let outcomes = plan.streams.map { s in
                Outcome(request: s.request.text, direction: s.request.direction.rawValue, format: s.request.format.compact,
                        stripe: s.request.stripe, codecAddress: s.request.direction == .capture ? s.request.codecAddress : nil,
                        status: s.status.name ?? "NTSTATUS", statusValue: s.status.hexString,
                        engine: s.engine.map { e in
                            Engine(index: e.index, kind: e.kind.rawValue, tag: Int(e.tag),
                                   converterFormat: (s.converterFormat?.rawValue ?? 0).hexLiteral,
                                   lines: s.request.direction == .capture ? "SDI\(e.sdiLine ?? s.request.codecAddress)"
                                       : e.stripeLines > 1 ? "SDO0-SDO\(e.stripeLines - 1)" : "SDO0",
                                   bitsPerLine: e.bitsPerLine, fifoWords: s.fifoWords, fifoBudget: s.fifoBudget)
                        },
                        converters: s.converters?.map { Converter(node: UInt32($0.node).hexLiteral(digits: 2), channels: $0.channels) },
                        convertersCoverStream: s.convertersCoverStream)
            }
            let sdo = plan.resources.sdo.enumerated().map { Line(line: "SDO\($0.offset)", used: $0.element.used, budget: $0.element.budget) }
            let sdi = plan.resources.sdi.enumerated().filter { $0.offset < profile.sdiLines }
                .map { Line(line: "SDI\($0.offset)", used: $0.element.used, budget: $0.element.budget) }
            if json {
                try printJSON(Report(profile: profile.name, codec: dump?.name, streams: outcomes, sdo: sdo, sdi: sdi))
                return
            }
            print("Plan on \(profile.name) (\(profile.summary))" + (dump.map { ", \($0.name) at address 0" } ?? "") + ":")
            for (i, o) in outcomes.enumerated() {
                let what = o.direction == "render" ? "render \(o.request)" : "capture \(o.request)"
                var line = "  \(i + 1). \(pad(what, 28)) \(o.status) (\(o.statusValue))"
                if let e = o.engine {
                    line += " -> \(e.kind) engine \(e.index), tag \(e.tag), converter \(e.converterFormat), \(e.bitsPerLine) bits/frame on \(e.lines)"
                }
                print(line)
                if let converters = o.converters {
                    let kind = o.direction == "render" ? "DAC" : "ADC"
                    print(converters.isEmpty ? "     codec: no \(kind) takes \(o.format)"
                          : "     codec: \(kind)s taking \(o.format): " + converters.map { "\($0.node) (\($0.channels) ch)" }.joined(separator: ", ")
                            + (o.convertersCoverStream == true ? "" : "; too few channels for the stream"))
                }
            }
            print("Link lines (bits per frame):")
            for l in sdo + sdi where l.line.hasPrefix("SDO") || l.used > 0 || plan.codecAddresses.contains(Int(l.line.dropFirst(3)) ?? -1) {
                print("  \(pad(l.line, 5)) \(l.used) / \(l.budget)  \(bar(l.used, l.budget))")
            }
            print("FIFO (16-bit words per frame, per engine):")
            let taken = outcomes.compactMap(\.engine)
            if taken.isEmpty { print("  no engine allocated") }
            for e in taken {
                print("  engine \(pad(String(e.index), 3)) \(e.fifoWords) / \(e.fifoBudget)  \(bar(e.fifoWords, e.fifoBudget))")
            }
        }
    }

    private func bar(_ used: Int, _ budget: Int) -> String {
        guard budget > 0 else { return "" }
        let width = 20
        let filled = min(width, Int((Double(used) / Double(budget) * Double(width)).rounded()))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(used * 100 / budget)%"
    }

    /// The requests in command-line order (read back from the arguments), parsed.
    func orderedRequests() throws -> [StreamRequest] {
        var order: [(StreamDirection, String)] = []
        let args = Array(CommandLine.arguments.dropFirst())
        var i = 0
        while i < args.count {
            let a = args[i]
            for (flag, direction) in [("--render", StreamDirection.render), ("--capture", .capture)] {
                if a == flag, i + 1 < args.count { order.append((direction, args[i + 1])); i += 1 }
                else if a.hasPrefix(flag + "=") { order.append((direction, String(a.dropFirst(flag.count + 1)))) }
            }
            i += 1
        }
        let parsed = order.filter { $0.0 == .render }.map(\.1) == render && order.filter { $0.0 == .capture }.map(\.1) == capture
        if !parsed { order = render.map { (.render, $0) } + capture.map { (.capture, $0) } }
        return try order.map { direction, text in try parse(direction, text) }
    }

    private func parse(_ direction: StreamDirection, _ text: String) throws -> StreamRequest {
        var formatText = text, stripe = false, address = 0
        if direction == .render {
            if text.hasSuffix(":stripe") { formatText = String(text.dropLast(7)); stripe = true }
        } else if let colon = text.firstIndex(of: ":") {
            guard let a = Int(text[..<colon]), (0...14).contains(a) else {
                throw CLIFailure("--capture \(text): the codec address must be 0 to 14")
            }
            address = a
            formatText = String(text[text.index(after: colon)...])
        }
        guard let format = StreamFormat(compact: formatText) else {
            throw CLIFailure("--\(direction.rawValue) \(text): '\(formatText)' is not RATE/BITS/CHANNELS (for example 48000/16/2)")
        }
        return StreamRequest(direction: direction, format: format, stripe: stripe, codecAddress: address, text: text)
    }
}
