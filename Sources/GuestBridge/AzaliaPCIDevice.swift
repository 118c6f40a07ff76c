import Glibc
public import HDAudio
public import HDAController

/// One guest access to the controller's registers, as the device process served it.
public struct RegisterAccess {
    /// Link time when it happened.
    public var frame: UInt64
    /// Offset in the controller's MMIO space.
    public var offset: UInt32
    /// 1, 2 or 4 bytes.
    public var width: Int
    /// The value written, or the value the read returned.
    public var value: UInt32
    /// True for a write.
    public var isWrite: Bool
    /// The register holding the first byte (`SD4LPIB`), or a hex offset for an unimplemented one.
    public var register: String
}

/// Azalia's controller as a PCI function in another process's guest: serves QEMU's
/// multi-process protocol on one socket (configuration space, BAR0 accesses, guest RAM
/// handed over as memfds, INTx through an eventfd) with link time paced by the host clock.
///
/// Every BAR access first brings link time up to now; between accesses the server sleeps
/// until the wall time of the controller's next event (`HDAController.nextEventFrame`), so
/// that IOC, wrap and latency events happen, and INTx is raised, when the hardware would.
/// The controller's DMA reaches only the guest RAM QEMU has shared, every access checked.
public final class AzaliaPCIDevice {
    /// The controller.
    public let controller: HDAController
    /// The guest's RAM, as mapped from the memfds.
    public let memory: GuestMemory
    /// The PCI configuration space.
    public private(set) var config: PCIConfigSpace
    /// Register accesses served, reads and writes, by register name.
    public private(set) var reads: [String: Int] = [:]
    /// Register writes by register name.
    public private(set) var writes: [String: Int] = [:]
    /// Times INTx was asserted through the eventfd.
    public private(set) var interruptsSignalled = 0
    /// Configuration-space accesses served.
    public private(set) var configAccesses = 0
    /// Called for every register access (for traces).
    public var onRegisterAccess: ((RegisterAccess) -> Void)?

    private let channel: MultiProcessChannel
    private var pacer: LinkPacer
    private var interruptFD: Int32 = -1
    private var resampleFD: Int32 = -1
    private var mapped: [(UnsafeMutableRawPointer, Int)] = []
    private let names: [String]

    /// A device for `profile` with `codecs` on the link (codec i at SDI address i), serving
    /// socket `fd`, link time at `rate` times real time.
    public init(profile: ControllerProfile, codecs: [any LinkCodec], socket fd: Int32, rate: Double) {
        memory = GuestMemory(mapped: [])
        controller = HDAController(profile: profile, memory: memory)
        controller.bufferAlignment = HDAController.relaxedBufferAlignment   // Linux misaligns on purpose: see BDLAlignment.swift
        for (i, codec) in codecs.enumerated() { controller.attach(codec, at: i) }
        config = PCIConfigSpace(vendor: profile.pciVendor, device: profile.pciDevice, revision: profile.revision)
        channel = MultiProcessChannel(fd: fd)
        pacer = LinkPacer(rate: rate)
        var names = (0..<Int(PCIConfigSpace.barSize)).map { "0x" + String($0, radix: 16, uppercase: true) }
        for r in HDAController.registers(of: profile) where r.aliasOf == nil || true {
            for b in 0..<r.width where Int(r.offset) + b < names.count { names[Int(r.offset) + b] = r.name }
        }
        self.names = names
        controller.interruptLineChanged = { [unowned self] asserted in if asserted { self.assertINTx() } }
    }

    deinit {
        for (p, n) in mapped { munmap(p, n) }
        if interruptFD >= 0 { close(interruptFD) }
        if resampleFD >= 0 { close(resampleFD) }
        channel.close()
    }

    /// Serves requests until the QEMU side closes the socket (returns normally) or
    /// `shouldStop` says so (checked at least every 50 ms). Throws on a protocol or system error.
    public func serve(shouldStop: () -> Bool) throws(GuestBridgeError) {
        while !shouldStop() {
            var timeout = 50_000_000 as UInt64
            let now = LinkPacer.monotonicNanos()
            if let next = controller.nextEventFrame {
                let due = pacer.nanos(atFrame: next)
                timeout = due > now ? min(timeout, due - now) : 0
            }
            var fds = [pollfd(fd: channel.fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: resampleFD, events: Int16(POLLIN), revents: 0)]
            // poll's millisecond timeout, rounded up: an event is served at most 1 ms of wall time late.
            let n = poll(&fds, resampleFD >= 0 ? 2 : 1, Int32((timeout + 999_999) / 1_000_000))
            if n < 0 && errno != EINTR { throw .system("ppoll", errno) }
            catchUp()
            if fds[1].revents & Int16(POLLIN) != 0 {
                var count: UInt64 = 0
                _ = read(resampleFD, &count, 8)
                if controller.interruptAsserted { assertINTx() }
            }
            if fds[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                do {
                    try handle(channel.receive())
                } catch .closed {
                    return
                }
            }
        }
    }

    /// Brings link time up to now.
    func catchUp() {
        let target = pacer.frameNow()
        if target > controller.frame { controller.advance(frames: target - controller.frame) }
    }

    private func handle(_ message: MultiProcessMessage) throws(GuestBridgeError) {
        switch message {
        case .syncSystemMemory(let regions):
            var fresh: [(UnsafeMutableRawPointer, Int)] = []
            var ram: [MappedRAMRegion] = []
            for r in regions {
                defer { close(r.fd) }
                if debugging { debug("SYNC_SYSMEM fd \(r.fd) gpa 0x\(String(r.gpa, radix: 16)) size 0x\(String(r.size, radix: 16)) offset 0x\(String(r.offset, radix: 16))") }
                guard r.size > 0, r.size < UInt64(Int.max) else { continue }
                guard let p = mmap(nil, Int(r.size), PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, off_t(r.offset)),
                      p != MAP_FAILED else {
                    throw .system("mmap of guest RAM at \(r.gpa)", errno)
                }
                fresh.append((p, Int(r.size)))
                ram.append(MappedRAMRegion(start: GuestAddress(r.gpa), size: r.size, host: p))
            }
            memory.remap(ram)
            for (p, n) in mapped { munmap(p, n) }
            mapped = fresh
        case .configRead(let address, let length):
            configAccesses += 1
            try channel.reply(UInt64(config.read(address, length: length)))
        case .configWrite(let address, let value, let length):
            configAccesses += 1
            config.write(address, value, length: length)
            try channel.reply(0)
        case .barRead(let address, let size, _):
            catchUp()
            var value: UInt32 = 0
            if let offset = barOffset(address, size) {
                value = size == 1 ? UInt32(controller.read8(offset))
                    : size == 2 ? UInt32(controller.read16(offset)) : controller.read32(offset)
                count(&reads, offset, size, value, write: false)
            }
            try channel.reply(UInt64(value))
        case .barWrite(let address, let value, let size, _):
            catchUp()
            if let offset = barOffset(address, size) {
                let v = UInt32(truncatingIfNeeded: value)
                switch size {
                case 1: controller.write8(offset, UInt8(truncatingIfNeeded: v))
                case 2: controller.write16(offset, UInt16(truncatingIfNeeded: v))
                default: controller.write32(offset, v)
                }
                count(&writes, offset, size, v, write: true)
                if debugging && names[Int(offset)].hasSuffix("CTL") && offset >= 0x80 && v & 2 != 0 { dumpBDL(offset & ~0x1F) }
            }
            try channel.reply(0)
        case .setInterruptFDs(let interrupt, let resample):
            if interruptFD >= 0 { close(interruptFD) }
            if resampleFD >= 0 { close(resampleFD) }
            interruptFD = interrupt
            resampleFD = resample
            if controller.interruptAsserted { assertINTx() }
        case .deviceReset:
            controller.write32(HDARegister.gctl, 0)   // CRST = 0: the one reset loop
            try channel.reply(nil)
        }
    }

    /// The offset inside BAR0 of an access at guest physical `address`, or nil when the
    /// access is not wholly inside the BAR (it is then ignored and reads 0).
    private func barOffset(_ address: UInt64, _ size: Int) -> UInt32? {
        let base = config.bar0
        // Compared as a distance: address - base + size overflows for an access near 2^64.
        guard [1, 2, 4].contains(size), address >= base, address - base <= UInt64(PCIConfigSpace.barSize) - UInt64(size) else {
            return nil
        }
        return UInt32(address - base)
    }

    private func count(_ table: inout [String: Int], _ offset: UInt32, _ width: Int, _ value: UInt32, write: Bool) {
        let name = names[Int(offset)]
        table[name, default: 0] += 1
        onRegisterAccess?(RegisterAccess(frame: controller.frame, offset: offset, width: width, value: value,
                                         isWrite: write, register: name))
    }

    private let debugging = getenv("AZALIA_VM_DEBUG") != nil
    private func debug(_ line: String) {
        let text = Array("azalia vm: \(line)\n".utf8)
        _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    private func dumpBDL(_ sd: UInt32) {
        let bdl = UInt64(controller.read32(sd + 0x1C)) << 32 | UInt64(controller.read32(sd + 0x18))
        let lvi = Int(controller.read16(sd + 0xC))
        debug("RUN at 0x\(String(sd, radix: 16)): STS 0x\(String(controller.read8(sd + 3), radix: 16)) CBL \(controller.read32(sd + 8)) LVI \(lvi) FMT 0x\(String(controller.read16(sd + 0x12), radix: 16)) BDL 0x\(String(bdl, radix: 16)) RAM \(memory.isRAM(GuestAddress(bdl), length: 16))")
        for i in 0...min(lvi, 8) {
            let a = (try? memory.readUInt64(GuestAddress(bdl + UInt64(i) * 16))) ?? 0xDEAD
            let l = (try? memory.readUInt32(GuestAddress(bdl + UInt64(i) * 16 + 8))) ?? 0
            let f = (try? memory.readUInt32(GuestAddress(bdl + UInt64(i) * 16 + 12))) ?? 0
            debug("  entry \(i): 0x\(String(a, radix: 16)) \(l) bytes flags \(f)")
        }
    }

    private func assertINTx() {
        guard interruptFD >= 0 else { return }
        var one: UInt64 = 1
        _ = write(interruptFD, &one, 8)
        interruptsSignalled += 1
    }
}
