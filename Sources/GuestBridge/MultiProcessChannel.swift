import Glibc

/// The messages of QEMU's multi-process protocol (QEMU 7.2, `-device x-pci-proxy-dev`), as
/// they cross the UNIX stream socket between the guest's QEMU (the proxy) and the device
/// process: a 16-byte header (`int32 command`, 4 bytes of padding, `uint64 size`), then
/// `size` bytes of payload, little-endian; file descriptors ride on the header as SCM_RIGHTS.
public enum MultiProcessMessage {
    /// SYNC_SYSMEM (0): guest RAM, up to 8 memfds, each holding guest physical
    /// addresses `gpa ..< gpa + size` from file offset `offset`. No reply.
    case syncSystemMemory([(fd: Int32, gpa: UInt64, size: UInt64, offset: Int64)])
    /// PCI_CFGWRITE (2): a configuration-space write; replied with RET 0.
    case configWrite(address: UInt32, value: UInt32, length: Int)
    /// PCI_CFGREAD (3): a configuration-space read; replied with RET value.
    case configRead(address: UInt32, length: Int)
    /// BAR_WRITE (4): a write to guest physical `address` (inside a BAR); replied with RET 0.
    case barWrite(address: UInt64, value: UInt64, size: Int, memory: Bool)
    /// BAR_READ (5): a read at guest physical `address`; replied with RET value.
    case barRead(address: UInt64, size: Int, memory: Bool)
    /// SET_IRQFD (6): the INTx eventfd and its resample eventfd. No reply.
    case setInterruptFDs(interrupt: Int32, resample: Int32)
    /// DEVICE_RESET (7): reset the device; replied with an empty RET.
    case deviceReset
}

/// Why the channel failed.
public enum GuestBridgeError: Error, CustomStringConvertible, Equatable {
    /// The peer closed the socket.
    case closed
    /// A system call failed.
    case system(String, Int32)
    /// The peer sent something the protocol does not allow.
    case protocolViolation(String)
    /// Anything else, in words.
    case failed(String)

    public var description: String {
        switch self {
        case .closed: "the QEMU side closed the device socket"
        case .system(let call, let code): "\(call) failed: \(String(cString: strerror(code)))"
        case .protocolViolation(let what): "multi-process protocol violation: \(what)"
        case .failed(let what): what
        }
    }
}

/// One end of the multi-process socket: reads requests, writes replies.
public final class MultiProcessChannel {
    /// The socket.
    public let fd: Int32
    /// Commands of the protocol.
    enum Command: Int32 {
        case syncSystemMemory = 0, ret, configWrite, configRead, barWrite, barRead, setInterruptFDs, deviceReset
    }
    static let headerSize = 16
    static let maxFDs = 8
    /// The largest payload the protocol has (SYNC_SYSMEM: three arrays of 8 words).
    static let maxPayload = 3 * 8 * 8

    /// A channel over socket `fd` (owned: closed by `close()`).
    public init(fd: Int32) { self.fd = fd }

    /// Closes the socket.
    public func close() { _ = Glibc.close(fd) }

    /// Reads the next message; throws `.closed` at end of stream.
    public func receive() throws(GuestBridgeError) -> MultiProcessMessage {
        var header = [UInt8](repeating: 0, count: Self.headerSize)
        var fds: [Int32] = []
        let got = try receiveHeader(into: &header, fds: &fds)
        if got == 0 { fds.forEach { _ = Glibc.close($0) }; throw .closed }
        if got < Self.headerSize { try readFully(&header, from: got) }
        let cmd = header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: Int32.self) }
        let size = header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self) }
        guard size <= UInt64(Self.maxPayload) else {
            fds.forEach { _ = Glibc.close($0) }
            throw .protocolViolation("payload of \(size) bytes for command \(cmd)")
        }
        var payload = [UInt8](repeating: 0, count: Int(size))
        if size > 0 { try readFully(&payload, from: 0) }
        func word<T>(_ offset: Int, _: T.Type) -> T {
            payload.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
        }
        func need(_ bytes: Int) throws(GuestBridgeError) {
            guard payload.count >= bytes else { throw .protocolViolation("command \(cmd) with \(payload.count) payload bytes") }
        }
        switch Command(rawValue: cmd) {
        case .syncSystemMemory:
            try need(Self.maxPayload)
            let regions = fds.enumerated().map { i, fd in
                (fd: fd, gpa: word(i * 8, UInt64.self), size: word(64 + i * 8, UInt64.self), offset: word(128 + i * 8, Int64.self))
            }
            return .syncSystemMemory(regions)
        case .configWrite:
            try need(12)
            return .configWrite(address: word(0, UInt32.self), value: word(4, UInt32.self), length: Int(word(8, Int32.self)))
        case .configRead:
            try need(12)
            return .configRead(address: word(0, UInt32.self), length: Int(word(8, Int32.self)))
        case .barWrite:
            try need(21)
            return .barWrite(address: word(0, UInt64.self), value: word(8, UInt64.self), size: Int(word(16, UInt32.self)),
                             memory: payload[20] != 0)
        case .barRead:
            try need(21)
            return .barRead(address: word(0, UInt64.self), size: Int(word(16, UInt32.self)), memory: payload[20] != 0)
        case .setInterruptFDs:
            guard fds.count == 2 else {
                fds.forEach { _ = Glibc.close($0) }
                throw .protocolViolation("SET_IRQFD with \(fds.count) descriptors")
            }
            return .setInterruptFDs(interrupt: fds[0], resample: fds[1])
        case .deviceReset:
            fds.forEach { _ = Glibc.close($0) }
            return .deviceReset
        case .ret, nil:
            fds.forEach { _ = Glibc.close($0) }
            throw .protocolViolation("unexpected command \(cmd)")
        }
    }

    /// Sends RET with a 64-bit value (or with no payload).
    public func reply(_ value: UInt64?) throws(GuestBridgeError) {
        var message = [UInt8](repeating: 0, count: Self.headerSize + (value == nil ? 0 : 8))
        message.withUnsafeMutableBytes { m in
            m.storeBytes(of: Command.ret.rawValue, toByteOffset: 0, as: Int32.self)
            m.storeBytes(of: UInt64(value == nil ? 0 : 8), toByteOffset: 8, as: UInt64.self)
            if let value { m.storeBytes(of: value, toByteOffset: 16, as: UInt64.self) }
        }
        var sent = 0
        while sent < message.count {
            let n = message.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE || errno == ECONNRESET { throw .closed }
                throw .system("send", errno)
            }
            sent += n
        }
    }

    /// recvmsg for the header, collecting SCM_RIGHTS descriptors. Returns the bytes read.
    private func receiveHeader(into header: inout [UInt8], fds: inout [Int32]) throws(GuestBridgeError) -> Int {
        // cmsghdr on x86-64: size_t len, int level, int type, then the data (8-byte aligned).
        let controlSize = 16 + Self.maxFDs * 4 + 64
        var control = [UInt8](repeating: 0, count: controlSize)
        var received = 0
        var controlLength = 0
        while true {
            let n = header.withUnsafeMutableBytes { h in
                control.withUnsafeMutableBytes { c in
                    var iov = iovec(iov_base: h.baseAddress, iov_len: h.count)
                    return withUnsafeMutablePointer(to: &iov) { iovp in
                        var msg = msghdr()
                        msg.msg_iov = iovp
                        msg.msg_iovlen = 1
                        msg.msg_control = c.baseAddress
                        msg.msg_controllen = c.count
                        let r = recvmsg(fd, &msg, Int32(MSG_CMSG_CLOEXEC))
                        controlLength = Int(msg.msg_controllen)
                        return r
                    }
                }
            }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET { return 0 }
                throw .system("recvmsg", errno)
            }
            received = n
            break
        }
        var offset = 0
        control.withUnsafeBytes { c in
            while offset + 16 <= controlLength {
                let length = Int(c.loadUnaligned(fromByteOffset: offset, as: Int.self))
                let level = c.loadUnaligned(fromByteOffset: offset + 8, as: Int32.self)
                let type = c.loadUnaligned(fromByteOffset: offset + 12, as: Int32.self)
                guard length >= 16 else { break }
                if level == SOL_SOCKET && type == Int32(SCM_RIGHTS) {
                    for i in 0..<((length - 16) / 4) {
                        fds.append(c.loadUnaligned(fromByteOffset: offset + 16 + 4 * i, as: Int32.self))
                    }
                }
                offset += (length + 7) & ~7
            }
        }
        return received
    }

    private func readFully(_ buffer: inout [UInt8], from start: Int) throws(GuestBridgeError) {
        var got = start
        while got < buffer.count {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, $0.count - got) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .system("read", errno)
            }
            if n == 0 { throw .closed }
            got += n
        }
    }
}
