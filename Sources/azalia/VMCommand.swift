import ArgumentParser
import Azalia
import Foundation
import GuestBridge
import HDACodec
import HDAController

/// `azalia vm`: Linux's snd-hda-intel, in a QEMU guest, drives Azalia's controller and codec.
struct VMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vm",
        abstract: "Boot a Linux guest (QEMU, TCG) whose sound card is Azalia's controller and codec, and play or record through it.",
        discussion: """
            Builds (once, cached in .guest-cache) a guest from Debian packages fetched with apt-get \
            download: the kernel's uncompressed vmlinux, the HD Audio modules, busybox and alsa-utils. \
            QEMU 7.2 runs it under TCG with `-device x-pci-proxy-dev`; this process is the device: \
            Azalia's controller behind a PCI function (the profile's PCI id, class 0x0403, one 16 KiB \
            BAR, INTx), its codec on the link, link time paced by the host clock at --rate.

            --play: the guest runs `aplay -N -D hw:0,0` on the file; the codec's DAC writes --out and \
            the run checks it against the file, sample for sample. --record-from: the codec's ADC plays \
            the file, the guest runs `arecord -N`, the recording leaves the guest through its second \
            serial port and is checked: every block the source's next. --shell: the guest's console, \
            interactive. --device qemu runs the same job against QEMU's own intel-hda + hda-duplex.

            --codec FILE[#N] puts a real chip's Linux dump on the link instead of Azalia's codec: \
            the guest's driver probes that chip (its vendor driver: Realtek, IDT, Conexant or Analog Devices, \
            as snd-hda-codec-realtek for the Realtek dumps; the generic parser otherwise), --play is heard at the best output pin a \
            DAC plays into when the first samples arrive (a line out or speaker before a \
            headphone: Linux's primary output, wherever its quirks put it), \
            --record-from is heard at every input pin, and the run compares the \
            /proc/asound/card0/codec#0 the guest prints with the dump, line by line: every \
            parameter line must be equal; the state Linux set (amp values, pin controls, power, \
            connection selection ...) is listed as excluded. --check adds a step with a shipped \
            ALC269 dump.

            Needs qemu-system-x86 (apt-get install qemu-system-x86), apt-get, dpkg-deb, cpio and xz.

            Examples:
              azalia vm --play music.wav --out heard.wav
              azalia vm --record-from counter.wav --out got.wav --seconds 2
              azalia vm --shell
              azalia vm --play music.wav --device qemu --out qemu-heard.wav
              azalia vm --play music.wav --codec alc269vc-lenovo-thinkpad-t530.txt
            """)

    @Option(help: "A WAV file for the guest to play (aplay).")
    var play: String?

    @Option(name: .customLong("record-from"), help: "A WAV file the codec's ADC plays while the guest records (arecord).")
    var recordFrom: String?

    @Flag(help: "Boot the guest with an interactive shell on the console.")
    var shell = false

    @Flag(help: "The self-check (CI): the driver probes the card, aplay of 48 kHz and 44.1 kHz 16-bit stereo comes out sample for sample, arecord of a counter signal has no missing or repeated block; then Realtek's driver binds a shipped ALC269VC dump (or --codec's), aplay through it comes out sample for sample, arecord through it is intact, and its codec#0 matches the dump in every parameter line.")
    var check = false

    @Option(help: "Where the heard audio (--play) or the recording (--record-from) is written.")
    var out: String?

    @Option(help: "Seconds to record (default: the source's length, at most 10).")
    var seconds: Double?

    @Option(help: "Link time per unit of real time, (0, 1]: below 1 lets a slow (TCG) guest keep up with a capture; keep 1 for --play (without period interrupts aplay's drain gives up after 1.1 buffer times of wall time and stops the stream).")
    var rate: Double = 1.0

    @Option(help: "The sound device: azalia, or qemu (QEMU's intel-hda + hda-duplex, for comparison).")
    var device: String = "azalia"

    @Option(help: "Controller profile (\(ControllerProfile.all.map(\.name).joined(separator: ", "))).")
    var profile: String = ControllerProfile.default.name

    @Option(help: "Write a Chrome trace of the guest's register traffic, in link time.")
    var trace: String?

    @Option(help: "Seconds before the run is abandoned.")
    var timeout: Double = 300

    @Option(help: "The guest cache folder.")
    var cache: String?

    @OptionGroup var codec: CodecOption

    func validate() throws {
        let jobs = [play != nil, recordFrom != nil, shell, check].filter { $0 }.count
        guard jobs == 1 else { throw ValidationError("give exactly one of --play, --record-from, --shell, --check") }
        guard rate > 0 && rate <= 1 else { throw ValidationError("--rate must be in (0, 1]") }
        guard GuestSoundDevice(rawValue: device) != nil else { throw ValidationError("--device must be azalia or qemu") }
        guard ControllerProfile.named(profile) != nil else { throw ValidationError("unknown profile \(profile)") }
        if let seconds, !(seconds > 0 && seconds <= 60) { throw ValidationError("--seconds must be in (0, 60]") }
        guard timeout > 0 && timeout <= 86_400 else { throw ValidationError("--timeout must be in (0, 86400] seconds") }
        if codec.spec != nil, device != GuestSoundDevice.azalia.rawValue {
            throw ValidationError("--codec needs --device azalia (QEMU's model has its own codec)")
        }
    }

    /// The package's root, from this file's path (the guest scripts live in Guest/).
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    func run() throws {
        try reportingFailures {
            ChildProcess.killChildrenOnSignals()
            let dump = try codec.load()   // a dump that does not load fails before any guest is built
            if check { return try selfCheck(dump: dump) }
            try runJob(play: play, recordFrom: recordFrom, out: out, seconds: seconds, dump: dump)
        }
    }

    /// The dump the self-check's real-codec step loads (an ALC269-family chip, for
    /// snd-hda-codec-realtek), shipped with the tests.
    static var checkDumpPath: String {
        packageRoot.appendingPathComponent("Tests/CodecDumps/alc269vc-lenovo-thinkpad-t530.txt").path
    }

    /// The self-check: guest runs, each a step of the issues' "done when": three through
    /// Azalia's codec, and two (aplay, arecord) through a real chip's dump (--codec's, or the
    /// shipped ALC269VC) whose vendor driver must bind.
    func selfCheck(dump: CodecDump?) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("azalia-vm-check-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let start = Date()
        var failed: [String] = []
        let realChip = try dump ?? loadCodecDump(Self.checkDumpPath)
        let steps: [(String, WAVFile, Bool, CodecDump?)] = [
            ("aplay 48000 Hz 16-bit stereo", TestSignals.tones(rate: 48000, seconds: 1.5), false, nil),
            ("aplay 44100 Hz 16-bit stereo", TestSignals.tones(rate: 44100, seconds: 1.5, frequency: 330), false, nil),
            ("arecord 48000 Hz 16-bit stereo counter", TestSignals.counter(rate: 48000, seconds: 4), true, nil),
            ("\(realChip.name) dump: vendor driver, aplay 48000 Hz 16-bit stereo, codec#0 as dumped",
             TestSignals.tones(rate: 48000, seconds: 1.5, frequency: 550), false, realChip),
            ("\(realChip.name) dump: vendor driver, arecord 48000 Hz 16-bit stereo counter",
             TestSignals.counter(rate: 48000, seconds: 4), true, realChip),
        ]
        for (i, (name, wav, record, chip)) in steps.enumerated() {
            let path = folder.appendingPathComponent("signal\(i).wav").path
            try writeWAV(wav, to: path)
            print("== \(name)")
            do {
                try runJob(play: record ? nil : path, recordFrom: record ? path : nil,
                           out: folder.appendingPathComponent("out\(i).wav").path, seconds: record ? 1.5 : nil,
                           rate: record ? min(rate, 0.5) : rate,   // a capture at half speed keeps up on a loaded machine
                           dump: chip, vendorDriverRequired: chip != nil)
            } catch let failure as CLIFailure {
                print("FAILED: \(failure.message)")
                failed.append(name)
            }
        }
        print(String(format: "Self-check: %d of %d steps passed in %.0f s", steps.count - failed.count, steps.count,
                     Date().timeIntervalSince(start)))
        if !failed.isEmpty { throw CLIFailure("self-check failed: " + failed.joined(separator: ", ")) }
    }

    /// One guest run: play a file, record from one, or a shell; with `dump`, through that chip
    /// (with `vendorDriverRequired`, the generic parser binding it is a failure).
    func runJob(play: String?, recordFrom: String?, out: String?, seconds: Double?, rate: Double? = nil,
                dump: CodecDump? = nil, vendorDriverRequired: Bool = false) throws {
        let rate = rate ?? self.rate
        let root = Self.packageRoot
        let soundDevice = GuestSoundDevice(rawValue: device) ?? .azalia
        var input: WAVFile?
        var job = GuestJob.shell
        if let play {
            let wav = try readWAV(play)
            input = wav
            guard let bytes = FileManager.default.contents(atPath: play) else { throw CLIFailure("\(play): cannot read") }
            job = .play(wav: [UInt8](bytes))
        } else if let recordFrom {
            let wav = try readWAV(recordFrom)
            input = wav
            let fileSeconds = Double(wav.blockCount) / Double(max(1, wav.format.sampleRate))
            let want = seconds ?? min(fileSeconds, 10)
            let frames = Int(want * Double(wav.format.sampleRate))
            guard frames > 0 else { throw CLIFailure("\(recordFrom): nothing to record") }
            job = .record(rate: wav.format.sampleRate, bits: wav.format.bitsPerSample, channels: wav.format.channels,
                          frames: frames)
        }
        var options = GuestRunOptions(job: job, cacheDirectory: cache ?? root.appendingPathComponent(".guest-cache").path,
                                      guestDirectory: root.appendingPathComponent("Guest").path)
        options.device = soundDevice
        options.profile = ControllerProfile.named(profile) ?? .default
        options.rate = rate
        options.timeout = timeout
        options.codecDump = dump
        let heardPath = out ?? FileManager.default.temporaryDirectory.appendingPathComponent("azalia-vm-heard-\(getpid()).wav").path
        if play != nil, let input {
            if soundDevice == .azalia { options.sinkPath = heardPath } else {
                options.qemuWAV = (heardPath, input.format.sampleRate, input.format.channels)
            }
        }
        if let recordFrom { options.sourcePath = recordFrom }
        let recorder = trace.map { _ in TraceRecorder() }
        if let recorder {
            recorder.nameThread(TraceRecorder.controllerThread, "controller: guest register accesses")
            options.onRegisterAccess = { a in
                recorder.instant((a.isWrite ? "write " : "read ") + a.register, category: "mmio", frame: a.frame,
                                 tid: TraceRecorder.controllerThread,
                                 args: ["offset": .string(String(format: "0x%03X", a.offset)), "width": .number(Double(a.width)),
                                        "value": .string(String(format: "0x%08X", a.value))])
            }
        }
        if !shell { print("Building or reusing the guest in \(options.cacheDirectory) ...") }
        let report: GuestRunReport
        do { report = try GuestRun.run(options) } catch {
            try? writeTrace(recorder, to: trace)   // the traffic up to the failure
            throw CLIFailure("\(error)")
        }
        try writeTrace(recorder, to: trace)
        if shell {   // the console was the terminal: only the device's side is left to report
            print("Register accesses: \(report.reads.values.reduce(0, +)) reads, \(report.writes.values.reduce(0, +)) writes")
            return
        }
        printReport(report, options: options)
        var failures: [String] = []
        if !report.probed { failures.append("the guest's driver did not probe the sound card") }
        if let dump, report.probed { failures += checkRealCodec(dump, report, vendorDriverRequired: vendorDriverRequired) }
        if soundDevice == .azalia, !report.unexpectedFindings.isEmpty {
            failures.append("the kernel warned: " + report.unexpectedFindings.joined(separator: " | "))
        }
        if let play, input != nil, !FileManager.default.fileExists(atPath: heardPath) {
            // The sink writes its file with the first samples that reach it: none did.
            print("Heard == \(play): no: not one sample reached the codec's output")
            failures.append("nothing of \(play) reached the codec's output")
        } else if let play, let input {
            let heard = try readWAV(heardPath)
            if out == nil { try? FileManager.default.removeItem(atPath: heardPath) }
            let verdict = PlaybackComparison(input: input, heard: heard)
            print("Heard == \(play): \(verdict)")
            if !verdict.equal {
                // A driver quirk can narrow the PCM's rates (Lenovo's 17aa:3bf8 ALC269 plays 44.1 kHz only): aplay
                // then plays the samples at the rate it got, and says so.
                let rate = report.job.first { $0.contains("rate is not accurate") }.map { " (aplay: \($0.trimmingCharacters(in: .whitespaces)))" }
                failures.append("the codec did not receive \(play) sample for sample" + (rate ?? ""))
            }
        }
        if let recordFrom, let input {
            guard let recorded = try? WAVFile.parse(report.serialData) else {
                throw CLIFailure("the recording did not come out of the guest (\(report.serialData.count) bytes on its serial port)")
            }
            if let out { try writeWAV(recorded, to: out) }
            let verdict = RecordingComparison(source: input, recorded: recorded)
            print("Recorded \(recorded.blockCount) blocks (\(recorded.format)); in order from \(recordFrom): \(verdict)")
            if soundDevice == .azalia && !verdict.intact { failures.append("the recording has missing or repeated blocks") }
        }
        if let out { print("Written to \(out)") }
        if let trace { print("Trace written to \(trace)") }
        if !failures.isEmpty { throw CLIFailure(failures.joined(separator: "; ")) }
    }

    /// The real chip's checks: which driver bound it, and the guest's codec#0 against the
    /// re-print of the dump (every parameter line equal; the state lines Linux set listed).
    func checkRealCodec(_ dump: CodecDump, _ r: GuestRunReport, vendorDriverRequired: Bool) -> [String] {
        var failures: [String] = []
        let driver = r.codecDriver ?? "none"
        print("Codec driver bound: \(driver)" + (r.heardPin.map { String(format: "; heard at output pin 0x%02x", $0) } ?? ""))
        if vendorDriverRequired && (driver == "none" || driver.contains("generic")) {
            failures.append("\(dump.name) was not bound by its vendor driver (\(driver))")
        }
        let reference = DumpCodec(dump: dump, startFromDump: true)
        let expected = CodecDumpPrinter(codec: reference, address: reference.address, dump: dump).lines()
        let comparison = CodecDumpComparison(expected: expected, actual: r.codec)
        print("codec#0 against the dump: \(comparison.parameterLines) parameter lines, \(comparison.differences.count) differ; "
              + "state lines excluded: \(comparison.excludedSummary)")
        for d in comparison.differences.prefix(10) { print("  differs: \(d)") }
        if !comparison.printedOnly.isEmpty {
            print("  printed by the guest only (the dump's kernel did not print them): "
                  + comparison.printedOnly.map { "'\(($0.actual ?? "").drop { $0 == " " })'" }.joined(separator: ", "))
        }
        if !comparison.parametersMatch {
            failures.append("the guest's codec#0 differs from \(dump.name)'s dump in \(comparison.differences.count) parameter lines")
        }
        return failures
    }

    func printReport(_ r: GuestRunReport, options: GuestRunOptions) {
        let what = options.device == .azalia
            ? "Azalia \(options.profile.name) (\(String(format: "%04X:%04X", options.profile.pciVendor, options.profile.pciDevice))), link at \(options.rate)x real time"
            : "QEMU intel-hda + hda-duplex in a remote QEMU"
        print("Guest: Linux under QEMU TCG, sound device \(what); \(String(format: "%.1f", r.seconds)) s")
        print("Job:")
        for line in r.job { print("  \(line)") }
        print("/proc/asound/cards:")
        for line in r.cards { print("  \(line)") }
        print("/proc/asound/pcm:")
        for line in r.pcm { print("  \(line)") }
        print("/proc/asound/card0/codec#0 (\(r.codec.count) lines; node lines shown):")
        for line in r.codec where line.hasPrefix("Codec:") || line.hasPrefix("Vendor Id") || line.hasPrefix("Node ") {
            print("  \(line)")
        }
        print("Kernel HD Audio messages:")
        let findings = Set(r.kernelFindings)
        for line in r.kernel { print((findings.contains(line) ? "! " : "  ") + line) }
        if !r.interrupts.isEmpty { print("Interrupts seen by the guest: " + r.interrupts.joined(separator: " | ")) }
        if options.device == .azalia {
            let reads = r.reads.values.reduce(0, +), writes = r.writes.values.reduce(0, +)
            print("Register accesses: \(reads) reads, \(writes) writes; INTx asserted \(r.interruptsSignalled) times; "
                  + "link time \(String(format: "%.2f", Double(r.linkFrames) / 48000)) s")
            let top = Set(r.reads.keys).union(r.writes.keys).sorted {
                (r.reads[$0, default: 0] + r.writes[$0, default: 0], $1) > (r.reads[$1, default: 0] + r.writes[$1, default: 0], $0)
            }
            for name in top.prefix(12) {
                print("  \(pad(name, 10)) \(r.reads[name, default: 0]) reads, \(r.writes[name, default: 0]) writes")
            }
        }
    }
}
