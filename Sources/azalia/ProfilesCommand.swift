import ArgumentParser
import HDAController
import HDAudio

/// `azalia profiles`: the virtual controllers Azalia can build, read back from their registers.
struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "List the controller profiles, or show one in detail.",
        discussion: """
            Profiles: \(ControllerProfile.all.map(\.name).joined(separator: ", ")) (default: \(ControllerProfile.default.name)).
            The details are read from a freshly reset virtual controller's registers (GCAP, VMAJ/VMIN,
            OUTPAY, INPAY, OUTSTRMPAY, INSTRMPAY), as a driver would see them.

            Examples:
              azalia profiles
              azalia profiles skylake-pch
              azalia profiles azalia-bidi --json
            """)

    @Argument(help: "A profile name to show in detail.")
    var name: ControllerProfile?

    @Flag(help: "Print JSON.")
    var json = false

    /// One engine as the JSON report shows it.
    struct Engine: Encodable {
        var index: Int
        var kind: String
        var descriptorOffset: String
        var lpibAliasOffset: String
    }

    /// One profile as the JSON report shows it.
    struct Detail: Encodable {
        var name: String
        var summary: String
        var gcap: String
        var outputEngines: Int
        var inputEngines: Int
        var bidirectionalEngines: Int
        var sdoLines: Int
        var sdiLines: Int
        var supports64Bit: Bool
        var version: String
        var outpayWords: Int
        var inpayWords: Int
        var sdoBudgetBitsPerLine: Int
        var sdiBudgetBitsPerLine: Int
        var outstrmpayWords: Int
        var instrmpayWords: Int
        var ssyncOffset: String
        var pciId: String
        var fifoBytes: [String: Int]
        var crstExitFrames: UInt64
        var srstFrames: UInt64
        var engines: [Engine]
    }

    func run() throws {
        try reportingFailures {
            if let name {
                let detail = Self.detail(name)
                if json { try printJSON(detail) } else { printDetail(detail) }
            } else {
                let details = ControllerProfile.all.map(Self.detail)
                if json {
                    try printJSON(details)
                } else {
                    for d in details {
                        let mark = d.name == ControllerProfile.default.name ? " (default)" : ""
                        print("\(d.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(d.summary)\(mark)")
                    }
                }
            }
        }
    }

    /// Builds the profile's controller, takes it out of reset and reads what a driver would read.
    static func detail(_ profile: ControllerProfile) -> Detail {
        let controller = HDAController(profile: profile, memory: GuestMemory(pages: 16))
        controller.write32(HDARegister.gctl, GlobalControl.crst)
        controller.advance(frames: profile.crstExitFrames + UInt64(LinkTiming.codecWakeFrames) + 1)
        let gcap = GlobalCapabilities(rawValue: controller.read16(HDARegister.gcap))
        let layout = EngineLayout(gcap)
        let outpay = controller.read16(HDARegister.outpay), inpay = controller.read16(HDARegister.inpay)
        let engines = (0..<layout.count).map { index in
            Engine(index: index, kind: layout.kind(of: index).rawValue,
                   descriptorOffset: UInt16(HDARegister.streamDescriptor(index)).hexLiteral,
                   lpibAliasOffset: UInt16(HDARegister.lpibAlias(index)).hexLiteral)
        }
        return Detail(
            name: profile.name, summary: profile.summary, gcap: gcap.rawValue.hexLiteral,
            outputEngines: gcap.outputEngines, inputEngines: gcap.inputEngines,
            bidirectionalEngines: gcap.bidirectionalEngines, sdoLines: gcap.sdoLines, sdiLines: profile.sdiLines,
            supports64Bit: gcap.supports64Bit,
            version: "\(controller.read8(HDARegister.vmaj)).\(controller.read8(HDARegister.vmin))",
            outpayWords: Int(outpay), inpayWords: Int(inpay),
            sdoBudgetBitsPerLine: LinkBudget.sdoLineBudget(outpay: outpay),
            sdiBudgetBitsPerLine: LinkBudget.sdiLineBudget(inpay: inpay),
            outstrmpayWords: Int(controller.read16(HDARegister.outstrmpay)),
            instrmpayWords: Int(controller.read16(HDARegister.instrmpay)),
            ssyncOffset: UInt16(profile.ssyncOffset).hexLiteral,
            pciId: "\(profile.pciVendor.hexLiteral.dropFirst(2)):\(profile.pciDevice.hexLiteral.dropFirst(2))",
            fifoBytes: ["output": profile.fifoRule.outputBytes, "output20or24": profile.fifoRule.outputBytes20or24,
                        "input": profile.fifoRule.inputBytes, "input20or24": profile.fifoRule.inputBytes20or24],
            crstExitFrames: profile.crstExitFrames, srstFrames: profile.srstFrames,
            engines: engines)
    }

    private func printDetail(_ d: Detail) {
        print("\(d.name): \(d.summary)")
        print("  PCI id        \(d.pciId), HD Audio \(d.version)")
        print("  GCAP          \(d.gcap): \(d.outputEngines) output, \(d.inputEngines) input, "
              + "\(d.bidirectionalEngines) bidirectional engines; \(d.sdoLines) SDO line\(d.sdoLines == 1 ? "" : "s"); "
              + "64-bit \(d.supports64Bit ? "yes" : "no")")
        print("  SDI lines     \(d.sdiLines) (codec addresses 0-\(d.sdiLines - 1))")
        print("  SDO budget    OUTPAY \(d.outpayWords) words = \(d.sdoBudgetBitsPerLine) bits per frame per line")
        print("  SDI budget    INPAY \(d.inpayWords) words = \(d.sdiBudgetBitsPerLine) bits per frame per line")
        print("  FIFO budget   OUTSTRMPAY \(d.outstrmpayWords) words, INSTRMPAY \(d.instrmpayWords) words per stream per frame")
        print("  SSYNC         at \(d.ssyncOffset)")
        print("  FIFO sizes    output \(d.fifoBytes["output"]!) bytes (\(d.fifoBytes["output20or24"]!) for 20/24-bit), "
              + "input \(d.fifoBytes["input"]!) bytes (\(d.fifoBytes["input20or24"]!) for 20/24-bit)")
        print("  latencies     CRST exit \(d.crstExitFrames) frames, SRST \(d.srstFrames) frames")
        print("  engines       index  kind           descriptor  LPIB alias")
        for e in d.engines {
            print("                \(String(e.index).padding(toLength: 6, withPad: " ", startingAt: 0)) "
                  + "\(e.kind.padding(toLength: 14, withPad: " ", startingAt: 0)) \(e.descriptorOffset)      \(e.lpibAliasOffset)")
        }
    }
}

