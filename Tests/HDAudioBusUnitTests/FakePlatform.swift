import HDAudio
import HDAudioBus
import Synchronization

/// A platform with no controller behind it: a byte-addressed register file that stores what
/// is written and answers reads from it, records every access, and lets a test override any
/// answer. Guest memory is a set of pages in a dictionary; stalls only add up; the interrupt
/// is whatever the test fires. So the bus's rules are tested apart from Azalia's controller.
///
/// Default answers, just enough for a bus to start and run engines: every register reads
/// back what was last written (so CRST, SRST and the CORB read-pointer reset complete at
/// once); setting RUN in an SDnCTL sets FIFORDY in its SDnSTS, clearing RUN clears it.
final class FakePlatform: HDAPlatform, Sendable {
    /// One register access, in the order the bus made it.
    struct Access: Equatable, Sendable, CustomStringConvertible {
        enum Kind: String, Sendable { case read, write }
        var kind: Kind
        var offset: UInt32
        var width: Int
        var value: UInt32
        var description: String { "\(kind.rawValue)\(width * 8) \(offset.hexLiteral(digits: 3)) = \(value.hexLiteral)" }
    }

    private struct State {
        var registers = [UInt8](repeating: 0, count: 0x4000)
        var log: [Access] = []
        var pages: [UInt64: [UInt8]] = [:]
        var nextPage: UInt64 = 0x10_0000
        var stalled: UInt64 = 0
        var irql: IRQL = .passive
        var isr: (@Sendable () -> Bool)?
    }

    private let state = PThreadMutex(State())
    /// A test's override of a read: return a value to answer it, nil for the register's contents.
    let readHook: (@Sendable (_ offset: UInt32, _ width: Int, _ stored: UInt32) -> UInt32?)?
    /// Whether RUN brings FIFORDY (false: the engine never gets ready).
    let fifoReadyOnRun: Bool

    let pciIdentity: PCIIdentity
    let pageSize: Int

    /// A fake controller with `gcap` and PCI identity, pages of `pageSize` bytes, codecs at
    /// the addresses in `codecMask` (STATESTS after reset).
    init(gcap: GlobalCapabilities = GlobalCapabilities(outputEngines: 4, inputEngines: 4, bidirectionalEngines: 0,
                                                        sdoLines: 1, supports64Bit: true),
         pci: PCIIdentity = PCIIdentity(vendorId: 0x8086, deviceId: 0x2668, revision: 1),
         codecMask: UInt16 = 0b1, pageSize: Int = 4096, fifoReadyOnRun: Bool = true,
         readHook: (@Sendable (_ offset: UInt32, _ width: Int, _ stored: UInt32) -> UInt32?)? = nil) {
        pciIdentity = pci
        self.pageSize = pageSize
        self.fifoReadyOnRun = fifoReadyOnRun
        self.readHook = readHook
        state.withLock { s in
            Self.store(&s, HDARegister.gcap, UInt32(gcap.rawValue), width: 2)
            Self.store(&s, HDARegister.vmaj, 1, width: 1)
            Self.store(&s, HDARegister.outpay, 0x3C, width: 2)
            Self.store(&s, HDARegister.inpay, 0x1D, width: 2)
            Self.store(&s, HDARegister.outstrmpay, 0x30, width: 2)
            Self.store(&s, HDARegister.instrmpay, 0x18, width: 2)
            Self.store(&s, HDARegister.statests, UInt32(codecMask), width: 2)
        }
    }

    // MARK: what the test inspects

    /// Every access so far.
    var log: [Access] { state.withLock { $0.log } }
    /// The writes so far.
    var writes: [Access] { log.filter { $0.kind == .write } }
    /// Forgets the accesses so far.
    func clearLog() { state.withLock { $0.log.removeAll() } }
    /// Pages allocated and not freed.
    var pagesInUse: Int { state.withLock { $0.pages.count } }
    /// Microseconds stalled in all.
    var stalledMicroseconds: UInt64 { state.withLock { $0.stalled } }
    /// A register's contents, without logging.
    func peek(_ offset: UInt32, width: Int) -> UInt32 { state.withLock { Self.load($0, offset, width: width) } }
    /// Sets a register's contents, without logging (what the hardware changed by itself).
    func poke(_ offset: UInt32, _ value: UInt32, width: Int) { state.withLock { Self.store(&$0, offset, value, width: width) } }
    /// Runs the bus's ISR as the interrupt line would; false when none is connected.
    func fireInterrupt() -> Bool {
        guard let isr = state.withLock({ $0.isr }) else { return false }
        return withIRQL(.dirql) { isr() }
    }

    // MARK: registers

    private static func load(_ s: State, _ offset: UInt32, width: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in 0..<width where Int(offset) + i < s.registers.count { v |= UInt32(s.registers[Int(offset) + i]) << (8 * UInt32(i)) }
        return v
    }

    private static func store(_ s: inout State, _ offset: UInt32, _ value: UInt32, width: Int) {
        for i in 0..<width where Int(offset) + i < s.registers.count {
            s.registers[Int(offset) + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))
        }
    }

    private func read(_ offset: UInt32, width: Int) -> UInt32 {
        let stored = state.withLock { Self.load($0, offset, width: width) }
        let value = readHook?(offset, width, stored) ?? stored
        state.withLock { $0.log.append(Access(kind: .read, offset: offset, width: width, value: value)) }
        return value
    }

    private func write(_ offset: UInt32, _ value: UInt32, width: Int) {
        let fifoReady = fifoReadyOnRun
        state.withLock { s in
            s.log.append(Access(kind: .write, offset: offset, width: width, value: value))
            Self.store(&s, offset, value, width: width)
            // RUN in an SDnCTL brings FIFORDY in its SDnSTS (byte 3 of the descriptor).
            let base = HDARegister.streamDescriptorBase
            if offset >= base, offset < HDARegister.aliasBase, (offset - base) % HDARegister.streamDescriptorStride == 0 {
                let sts = offset + HDARegister.SD.sts
                var status = Self.load(s, sts, width: 1) & ~UInt32(StreamStatus.fifoReady.rawValue)
                if value & StreamControl.run != 0 && fifoReady { status |= UInt32(StreamStatus.fifoReady.rawValue) }
                Self.store(&s, sts, status, width: 1)
            }
        }
    }

    func read8(_ offset: UInt32) -> UInt8 { UInt8(truncatingIfNeeded: read(offset, width: 1)) }
    func read16(_ offset: UInt32) -> UInt16 { UInt16(truncatingIfNeeded: read(offset, width: 2)) }
    func read32(_ offset: UInt32) -> UInt32 { read(offset, width: 4) }
    func write8(_ offset: UInt32, _ value: UInt8) { write(offset, UInt32(value), width: 1) }
    func write16(_ offset: UInt32, _ value: UInt16) { write(offset, UInt32(value), width: 2) }
    func write32(_ offset: UInt32, _ value: UInt32) { write(offset, value, width: 4) }

    // MARK: memory

    func allocatePages(count: Int, contiguous: Bool) -> [UInt64]? {
        guard count > 0 else { return nil }
        let size = UInt64(pageSize)
        return state.withLock { s in
            (0..<count).map { _ in
                let page = s.nextPage
                s.nextPage += size
                s.pages[page] = [UInt8](repeating: 0xCC, count: pageSize)
                return page
            }
        }
    }

    func freePages(_ pages: [UInt64]) {
        state.withLock { s in for p in pages { s.pages[p] = nil } }
    }

    /// Calls `body` for each page piece of [address, address + count); false when a byte is not in a page.
    private func pieces(_ address: UInt64, _ count: Int, _ body: (UInt64, Int, Int) -> Void) -> Bool {
        let size = UInt64(pageSize)
        var at = address, done = 0
        while done < count {
            let page = at / size * size, inPage = Int(at - page)
            let n = min(count - done, pageSize - inPage)
            guard state.withLock({ $0.pages[page] != nil }) else { return false }
            body(page, inPage, n)
            done += n
            at += UInt64(n)
        }
        return true
    }

    func readMemory(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        var out = 0
        return pieces(address, buffer.count) { page, inPage, n in
            state.withLock { s in
                s.pages[page]!.withUnsafeBytes { buffer.baseAddress!.advanced(by: out).copyMemory(from: $0.baseAddress! + inPage, byteCount: n) }
            }
            out += n
        }
    }

    func writeMemory(_ address: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool {
        var from = 0
        return pieces(address, buffer.count) { page, inPage, n in
            state.withLock { s in
                s.pages[page]!.withUnsafeMutableBytes { ($0.baseAddress! + inPage).copyMemory(from: buffer.baseAddress!.advanced(by: from), byteCount: n) }
            }
            from += n
        }
    }

    // MARK: time, interrupts, IRQL

    func stall(microseconds: UInt64) { state.withLock { $0.stalled += microseconds } }

    func connectInterrupt(_ isr: @escaping @Sendable () -> Bool, deferred: @escaping @Sendable () -> Void) {
        state.withLock { $0.isr = isr }
    }

    var currentIRQL: IRQL { state.withLock { $0.irql } }

    func withIRQL<R, E: Error>(_ level: IRQL, _ body: () throws(E) -> R) throws(E) -> R {
        let old = state.withLock { s in
            let old = s.irql
            s.irql = max(old, level)
            return old
        }
        defer { state.withLock { $0.irql = old } }
        return try body()
    }
}

/// Whether `body` throws `expected` (for `#expect`).
func fails<R>(with expected: NTStatus, _ body: () throws(NTStatus) -> R) -> Bool {
    do {
        _ = try body()
        return false
    } catch {
        return error == expected
    }
}
