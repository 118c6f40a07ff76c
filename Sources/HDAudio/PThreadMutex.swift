#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a POSIX mutex: the one lock type of Azalia's modules.
///
/// Why not `Synchronization.Mutex`: on Linux, Swift 6.3's `Mutex` locks with futexes directly,
/// which ThreadSanitizer cannot see, so every access inside `withLock` is reported as a race
/// and a real race cannot be told from the noise. A `pthread_mutex_t` is intercepted by TSan,
/// so under `--sanitize=thread` a warning means a race (and lock-order inversions are
/// reported too).
///
/// The mutex is an error-checking one: locking it again on the thread that holds it is an
/// invariant of Azalia broken (a re-entrant call the code should have refused), and traps with
/// that message instead of deadlocking.
///
/// `@unchecked Sendable`: the value is reachable only inside `withLock` and
/// `withLockIfAvailable`, which hold the mutex for the whole body, so no two threads touch it
/// at once; the mutex itself lives in storage that never moves (allocated once, freed in deinit).
public final class PThreadMutex<Value: ~Copyable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Reached only inside the two bodies that hold the mutex (whose error-checking lock traps
    /// a second lock on the same thread), so exclusivity is not checked again at run time.
    @exclusivity(unchecked) private var value: Value

    /// A mutex guarding `value`.
    public init(_ value: consuming sending Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ERRORCHECK))
        let status = pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value, holding the mutex.
    public func withLock<R, E: Error>(_ body: (inout sending Value) throws(E) -> sending R) throws(E) -> sending R {
        let status = pthread_mutex_lock(mutex)
        precondition(status == 0, status == EDEADLK ? "a lock taken again by the thread that holds it" : "pthread_mutex_lock failed: \(status)")
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }

    /// Runs `body` with the value if the mutex is free now; nil (and `body` not run) when another
    /// thread, or this one, holds it.
    public func withLockIfAvailable<R, E: Error>(_ body: (inout sending Value) throws(E) -> sending R) throws(E) -> sending R? {
        guard pthread_mutex_trylock(mutex) == 0 else { return nil }
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
