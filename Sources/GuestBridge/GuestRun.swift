import Foundation
import Glibc
public import HDAudio
public import HDAController
public import HDACodec

/// Which HD Audio device the guest gets.
public enum GuestSoundDevice: String, CaseIterable, Sendable {
    /// Azalia's controller and virtual codec, served by this process.
    case azalia
    /// QEMU's own intel-hda with hda-duplex, in a second QEMU (`-machine x-remote`): the
    /// differential check.
    case qemu
}

/// One guest run: what to boot, what to do, where results go.
public struct GuestRunOptions {
    /// The job.
    public var job: GuestJob
    /// The device under the guest.
    public var device: GuestSoundDevice = .azalia
    /// The controller profile (Azalia only).
    public var profile: ControllerProfile = .ich6
    /// Link time per unit of real time (Azalia only).
    public var rate: Double = 1.0
    /// Where the codec's DAC output goes (play, Azalia): a WAV file.
    public var sinkPath: String?
    /// What the codec's ADC plays (record, Azalia): a WAV file.
    public var sourcePath: String?
    /// Where QEMU's wav audiodev writes (play, QEMU model), and its fixed format.
    public var qemuWAV: (path: String, rate: UInt32, channels: UInt16)?
    /// Seconds before the run is abandoned (QEMU killed).
    public var timeout: Double = 300
    /// The guest cache folder (vmlinux, initramfs.cpio).
    public var cacheDirectory: String
    /// The folder holding build-guest.sh and init.
    public var guestDirectory: String
    /// Called for every register access (Azalia only).
    public var onRegisterAccess: ((RegisterAccess) -> Void)?
    /// A real chip's Linux dump to put on the link instead of Azalia's virtual codec (Azalia
    /// only): the guest's driver then probes that chip (its vendor driver, when the kernel
    /// has one).
    public var codecDump: CodecDump?

    /// Options for `job` with the guest files in `guestDirectory`, cached in `cacheDirectory`.
    public init(job: GuestJob, cacheDirectory: String, guestDirectory: String) {
        self.job = job
        self.cacheDirectory = cacheDirectory
        self.guestDirectory = guestDirectory
    }
}

/// What a guest run saw.
public struct GuestRunReport {
    /// The whole serial console.
    public var console: String
    /// `/proc/asound/cards`.
    public var cards: [String] = []
    /// `/proc/asound/pcm`.
    public var pcm: [String] = []
    /// `/proc/asound/card0/codec#0`.
    public var codec: [String] = []
    /// With a dump, the output pin whose samples the heard file holds (nil: none played).
    public var heardPin: UInt8?
    /// The kernel driver bound to codec 0 (`snd_hda_codec_realtek`, `snd_hda_codec_generic`), or nil.
    public var codecDriver: String?
    /// The kernel's sound and HD Audio messages.
    public var kernel: [String] = []
    /// The job's own lines (`azalia-guest: ...`) and the tools' messages.
    public var job: [String] = []
    /// HD Audio lines of /proc/interrupts.
    public var interrupts: [String] = []
    /// Register reads and writes by register (Azalia only).
    public var reads: [String: Int] = [:]
    /// Register writes by register.
    public var writes: [String: Int] = [:]
    /// INTx assertions written to the eventfd.
    public var interruptsSignalled = 0
    /// The bytes the guest sent through its second serial port (the recording).
    public var serialData: [UInt8] = []
    /// Wall seconds from QEMU's start to its exit.
    public var seconds: Double = 0
    /// Link time at the end (Azalia only), in frames.
    public var linkFrames: UInt64 = 0

    /// Kernel lines that are warnings or errors (timeouts, fallbacks, failures).
    public var kernelFindings: [String] {
        kernel.filter { line in
            ["timeout", "fail", "error", "switching", "unable", "cannot", "invalid", "warn", "no codec"].contains {
                line.lowercased().contains($0)
            }
        }
    }

    /// Findings TCG does not explain. Under TCG the guest gets no interrupt, so the driver's
    /// first wait for a response times out and it polls the RIRB ("switching to polling
    /// mode"): expected. Anything else (single_cmd mode, probe failures, stream errors) is not.
    public var unexpectedFindings: [String] {
        kernelFindings.filter { !$0.contains("switching to polling mode") }
    }

    /// True when the guest's driver created card 0 and parsed codec 0.
    public var probed: Bool { !cards.isEmpty && cards.contains { $0.contains("HDA") } && codec.contains { $0.hasPrefix("Codec:") } }
}

/// Boots the guest under QEMU (TCG) with the chosen sound device, runs its job, and
/// returns what it saw. QEMU is killed on every path out.
public enum GuestRun {
    /// The guest's console markers (see Guest/init).
    static let sections = ["cards", "pcm", "codec", "driver", "dmesg", "interrupts", "end"]

    /// Builds or reuses the guest image; returns the paths of vmlinux and the initramfs.
    public static func buildGuest(cache: String, guest: String) throws(GuestBridgeError) -> (vmlinux: String, initramfs: String) {
        let script = guest + "/build-guest.sh"
        guard FileManager.default.fileExists(atPath: script) else { throw .failed("missing \(script)") }
        do { try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true) } catch {
            throw .failed("cannot create the guest cache \(cache): \(error.localizedDescription)")
        }
        let log = cache + "/build.log"
        let build = try ChildProcess(["sh", script, cache], stdin: "/dev/null", stdout: log, stderr: log)
        defer { build.kill() }
        guard build.wait(seconds: 900) else { throw .failed("building the guest took more than 15 minutes (see \(log))") }
        guard build.exitedCleanly else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            let last = text.split(separator: "\n").last.map(String.init) ?? "no message"
            throw .failed("building the guest failed: \(last)")
        }
        return (cache + "/vmlinux", cache + "/initramfs.cpio")
    }

    /// Runs the guest once.
    public static func run(_ options: GuestRunOptions) throws(GuestBridgeError) -> GuestRunReport {
        guard findInPath("qemu-system-x86_64") else {
            throw .failed("qemu-system-x86_64 not found (apt-get install qemu-system-x86)")
        }
        let (vmlinux, initramfs) = try buildGuest(cache: options.cacheDirectory, guest: options.guestDirectory)
        let work = try makeWorkDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        guard let base = FileManager.default.contents(atPath: initramfs) else { throw .failed("cannot read \(initramfs)") }
        let initrd = work + "/initrd.cpio"
        guard FileManager.default.createFile(atPath: initrd, contents: base + Data(options.job.archive)) else {
            throw .failed("cannot write \(initrd)")
        }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw .system("socketpair", errno)
        }
        let console = work + "/console.log", serial = work + "/ttyS1.bin"
        let interactive: Bool
        if case .shell = options.job { interactive = true } else { interactive = false }
        let guestArguments = [
            "qemu-system-x86_64", "-accel", "tcg", "-m", "256M", "-smp", "1", "-nodefaults", "-display", "none",
            "-no-reboot", "-object", "memory-backend-memfd,id=mem,size=256M,share=on", "-machine", "pc,memory-backend=mem",
            "-kernel", vmlinux, "-initrd", initrd, "-append", "console=ttyS0 quiet panic=-1",
            "-serial", interactive ? "mon:stdio" : "file:" + console, "-serial", "file:" + serial,
            "-device", "x-pci-proxy-dev,id=hda,fd=3",
        ]
        var children: [ChildProcess] = []
        defer { children.forEach { $0.kill() } }
        var report = GuestRunReport(console: "")
        let start = LinkPacer.monotonicNanos()
        let deadline = start + LinkPacer.nanoseconds(options.timeout)
        let qemuLog = work + "/qemu.log"
        var qemuEnd = ""
        switch options.device {
        case .azalia:
            let made = try makeCodec(options)
            let (codec, sink) = (made.codec, made.sink)
            let device = AzaliaPCIDevice(profile: options.profile, codecs: [codec], socket: pair[0], rate: options.rate)
            device.onRegisterAccess = options.onRegisterAccess
            let guest = try ChildProcess(guestArguments, inherit: [(pair[1], 3)], stdin: interactive ? nil : "/dev/null",
                                         stdout: interactive ? nil : qemuLog, stderr: interactive ? nil : qemuLog)
            children.append(guest)
            close(pair[1])
            var timedOut = false
            try device.serve {
                if LinkPacer.monotonicNanos() >= deadline { timedOut = true; return true }
                return false
            }
            if timedOut { throw .failed("the guest did not finish within \(Int(options.timeout)) s (QEMU killed)" + consoleTail(console)) }
            if !guest.wait(seconds: 10) { guest.kill() }
            qemuEnd = guest.endDescription
            do { try sink?.finish() } catch { throw .failed("cannot write \(options.sinkPath ?? ""): \(error)") }
            report.reads = device.reads
            report.writes = device.writes
            report.interruptsSignalled = device.interruptsSignalled
            report.linkFrames = device.controller.frame
            report.heardPin = made.heard?.pin
        case .qemu:
            var audio = ["-audiodev", "none,id=snd0"]
            if let wav = options.qemuWAV {
                audio = ["-audiodev", "wav,id=snd0,path=\(wav.path),out.frequency=\(wav.rate),out.channels=\(wav.channels),"
                         + "out.format=s16,out.fixed-settings=on"]
            }
            let remote = try ChildProcess(["qemu-system-x86_64", "-machine", "x-remote", "-nodefaults", "-display", "none"]
                                          + audio + ["-device", "intel-hda,id=hda", "-device", "hda-duplex,bus=hda.0,audiodev=snd0",
                                                     "-object", "x-remote-object,id=robj,devid=hda,fd=3"],
                                          inherit: [(pair[0], 3)], stdin: "/dev/null", stdout: work + "/remote.log",
                                          stderr: work + "/remote.log")
            children.append(remote)
            let guest = try ChildProcess(guestArguments, inherit: [(pair[1], 3)], stdin: interactive ? nil : "/dev/null",
                                         stdout: interactive ? nil : qemuLog, stderr: interactive ? nil : qemuLog)
            children.append(guest)
            close(pair[0])
            close(pair[1])
            let seconds = Double(deadline - LinkPacer.monotonicNanos()) / 1e9
            if !guest.wait(seconds: seconds) {
                throw .failed("the guest did not finish within \(Int(options.timeout)) s (QEMU killed)" + consoleTail(console))
            }
            qemuEnd = guest.endDescription
            remote.kill()
        }
        report.seconds = Double(LinkPacer.monotonicNanos() - start) / 1e9
        report.console = (try? String(contentsOfFile: console, encoding: .utf8)) ?? ""
        report.serialData = FileManager.default.contents(atPath: serial).map { [UInt8]($0) } ?? []
        parse(&report)
        if !interactive && !report.console.contains("=== end") {
            let qemu = ((try? String(contentsOfFile: qemuLog, encoding: .utf8)) ?? "").split(separator: "\n").last.map(String.init)
            let tail = report.console.split(separator: "\n").suffix(3).joined(separator: " | ")
            throw .failed("the guest stopped before its job ended (QEMU \(qemuEnd)\(qemu.map { ": \($0)" } ?? ""))" + (tail.isEmpty ? " (no console output)" : ": \(tail)"))
        }
        return report
    }

    /// The codec the guest's controller gets at address 0, wired to the options' files.
    public struct GuestCodec {
        /// The codec: a `DumpCodec` of `codecDump`, or Azalia's virtual codec with one DAC and one ADC.
        public var codec: any LinkCodec
        /// The heard file (--play), finished after the run.
        public var sink: WAVFileSink?
        /// With a dump and a heard file: which output pin is heard.
        public var heard: PlayingPinSink?
    }

    /// The codec the guest's controller gets at address 0, wired to the options' files. The
    /// heard file is the virtual codec's DAC, or with a dump the best output pin Linux plays
    /// into (`PlayingPinSink`: the line out or speaker before the headphone, whichever DAC
    /// feeds it). The source is the virtual codec's ADC, or every input pin of the dump:
    /// whichever ADC and input Linux selects records the file. A dump without an output path
    /// cannot take --play, one without input pins cannot take --record-from.
    public static func makeCodec(_ options: GuestRunOptions) throws(GuestBridgeError) -> GuestCodec {
        let sink = options.sinkPath.map { WAVFileSink(path: $0) }
        var source: WAVFileSource?
        if let path = options.sourcePath {
            do { source = try WAVFileSource(path: path) } catch { throw .failed("\(path): \(error)") }
        }
        guard let dump = options.codecDump else {
            let codec = VirtualCodec(address: 0, configuration: CodecConfiguration(dacCount: 1, adcCount: 1))
            if let sink { codec.setSink(sink, dac: 0) }
            if let source { codec.setSource(source, adc: 0) }
            return GuestCodec(codec: codec, sink: sink)
        }
        let codec = DumpCodec(dump: dump, address: 0)
        var heard: PlayingPinSink?
        if let sink {
            guard codec.graph.defaultOutput != nil else {
                throw .failed("\(dump.name) has no output path (no DAC reaches an output pin)")
            }
            heard = PlayingPinSink(sink, listeningTo: codec)
        }
        if let source {
            // Every input-capable pin, jack or not: a driver's quirk may turn a pin the dump calls
            // unconnected into one (Lenovo's dock mic on the T530's 0x19).
            let pins = codec.graph.widgets.filter(\.isInputPin)
            guard !pins.isEmpty else { throw .failed("\(dump.name) has no input pin to record from") }
            for pin in pins { codec.setSource(source, pin: pin.id) }
        }
        return GuestCodec(codec: codec, sink: sink, heard: heard)
    }

    /// The console's last lines, for a failure message.
    static func consoleTail(_ path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let tail = text.split(separator: "\n").suffix(3).joined(separator: " | ")
        if let keep = ProcessInfo.processInfo.environment["AZALIA_VM_KEEP"] {
            try? FileManager.default.removeItem(atPath: keep)
            try? FileManager.default.copyItem(atPath: path, toPath: keep)
        }
        return tail.isEmpty ? "; no console output" : "; console: \(tail)"
    }

    static func parse(_ report: inout GuestRunReport) {
        var section = ""
        // The serial console ends lines with CR LF, one Character in Swift: normalise first.
        let text = report.console.replacingOccurrences(of: "\r\n", with: "\n")
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if line.hasPrefix("=== ") { section = String(line.dropFirst(4)); continue }
            switch section {
            case "cards": if !line.isEmpty { report.cards.append(line) }
            case "pcm": if !line.isEmpty { report.pcm.append(line) }
            case "codec": report.codec.append(line)
            case "driver": if !line.isEmpty { report.codecDriver = line }
            case "dmesg": if !line.isEmpty { report.kernel.append(line) }
            case "interrupts": if !line.isEmpty { report.interrupts.append(line) }
            case "": if !line.isEmpty && !line.hasPrefix("[") { report.job.append(line) }
            default: break
            }
        }
        while report.codec.last?.isEmpty == true { report.codec.removeLast() }
    }

    static func findInPath(_ tool: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { access("\($0)/\(tool)", X_OK) == 0 }
    }

    static func makeWorkDirectory() throws(GuestBridgeError) -> String {
        var template = Array((NSTemporaryDirectory() + "/azalia-vm-XXXXXX").utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw .system("mkdtemp", errno)
        }
        return String(cString: p)
    }
}
