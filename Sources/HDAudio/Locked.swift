#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a POSIX mutex: the one lock type of the project.
///
/// **Decision**: Synchronization's `Mutex` is not used. On Linux (Swift 6.3) it is built on
/// futexes that ThreadSanitizer does not intercept, so TSan reports every access made
/// under it as a race and a real race can no longer be told apart. A `pthread_mutex_t` is
/// seen by TSan (and its lock-order checker), so under `--sanitize=thread` a warning
/// means a race. The mutex is of the error-checking kind: taking it again on the thread
/// that holds it traps at once with a message instead of deadlocking silently.
///
/// The API is `Mutex`'s: `withLock` and `withLockIfAvailable`.
public final class Locked<Value: ~Copyable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    /// A lock guarding `value`.
    public init(_ value: consuming Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ERRORCHECK))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value, holding the lock. Taking the lock again on the same
    /// thread inside `body` is a programming error and traps.
    public func withLock<R: ~Copyable, E: Error>(_ body: (inout Value) throws(E) -> sending R) throws(E) -> sending R {
        let status = pthread_mutex_lock(mutex)
        precondition(status == 0, "Locked: pthread_mutex_lock failed (\(status)); a lock taken twice on one thread?")
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }

    /// Runs `body` with the value if the lock is free now (not held by any thread,
    /// including this one); nil otherwise.
    public func withLockIfAvailable<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R? {
        guard pthread_mutex_trylock(mutex) == 0 else { return nil }
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
