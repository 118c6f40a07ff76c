import Glibc

/// Child processes the guest run starts (QEMU), killed on every path out: `kill()` on
/// error, `killAll()` from the signal handler the runner installs.
public final class ChildProcess {
    /// The process id.
    public let pid: Int32
    /// The program's name, for messages.
    public let name: String
    /// The exit status once reaped.
    public private(set) var exitStatus: Int32?

    /// Starts `arguments[0]` (searched in PATH) with `arguments`; `inherit` maps parent fds
    /// to the child's fd numbers; standard input, output and error are inherited unless
    /// `stdio` names files for them.
    public init(_ arguments: [String], inherit: [(parent: Int32, child: Int32)] = [],
                stdin: String? = nil, stdout: String? = nil, stderr: String? = nil) throws(GuestBridgeError) {
        name = arguments.first ?? "?"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (parent, child) in inherit { posix_spawn_file_actions_adddup2(&actions, parent, child) }
        if let stdin { posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0) }
        if let stdout { posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        if let stderr { posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawnp(&child, arguments[0], &actions, nil, &argv, environ)
        guard rc == 0 else { throw .failed("cannot start \(arguments[0]): \(String(cString: strerror(rc)))") }
        pid = child
        ChildRegistry.add(child)
    }

    /// Reaps the child if it has exited; returns true when it has.
    public func poll() -> Bool {
        if exitStatus != nil { return true }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            exitStatus = status
            ChildRegistry.remove(pid)
            return true
        }
        return false
    }

    /// Waits up to `seconds` for the child to exit; returns true when it has.
    public func wait(seconds: Double) -> Bool {
        let end = LinkPacer.monotonicNanos() + LinkPacer.nanoseconds(seconds)
        while !poll() {
            if LinkPacer.monotonicNanos() >= end { return false }
            usleep(10_000)
        }
        return true
    }

    /// Kills the child (SIGKILL) and reaps it.
    public func kill() {
        guard !poll() else { return }
        _ = Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        exitStatus = status
        ChildRegistry.remove(pid)
    }

    /// True when the child exited normally with status 0.
    public var exitedCleanly: Bool {
        guard let s = exitStatus else { return false }
        return s & 0x7F == 0 && (s >> 8) & 0xFF == 0
    }

    /// How the child ended, in words ("exited with status 1", "killed by signal 9").
    public var endDescription: String {
        guard let s = exitStatus else { return "still running" }
        return s & 0x7F == 0 ? "exited with status \((s >> 8) & 0xFF)" : "killed by signal \(s & 0x7F)"
    }

    /// Kills every child still running on SIGINT, SIGTERM and SIGHUP, then exits 130.
    public static func killChildrenOnSignals() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { _ in
                ChildRegistry.killAll()
                _exit(130)
            }
        }
    }
}

/// The pids of running children, in a fixed array a signal handler can read without locks.
enum ChildRegistry {
    nonisolated(unsafe) static var pids = UnsafeMutablePointer<pid_t>.allocate(capacity: 8)
    nonisolated(unsafe) static var initialized = false

    static func add(_ pid: pid_t) {
        if !initialized { pids.initialize(repeating: 0, count: 8); initialized = true }
        for i in 0..<8 where pids[i] == 0 { pids[i] = pid; return }
    }

    static func remove(_ pid: pid_t) {
        guard initialized else { return }
        for i in 0..<8 where pids[i] == pid { pids[i] = 0 }
    }

    /// Async-signal-safe: kill(2) only.
    static func killAll() {
        guard initialized else { return }
        for i in 0..<8 where pids[i] > 0 {
            _ = Glibc.kill(pids[i], SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pids[i], &status, 0)   // reaped here: no zombie is left for a PID 1 that does not reap
        }
    }
}
