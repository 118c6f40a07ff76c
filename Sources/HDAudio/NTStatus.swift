/// An NTSTATUS value as the hdaudio.h DDI returns it.
///
/// Modelled on swift-system's `Errno`: a raw value with named statics. DDI routines
/// throw it with typed throws; `success` is never thrown.
public struct NTStatus: RawRepresentable, Error, Hashable, Sendable, CustomStringConvertible {
    /// The 32-bit NTSTATUS value.
    public let rawValue: UInt32

    /// Wraps a raw NTSTATUS value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The operation completed. The corresponding NTSTATUS is STATUS_SUCCESS.
    public static var success: NTStatus { NTStatus(rawValue: 0x0000_0000) }
    /// The operation failed; here: the caller's IRQL is too high. The corresponding NTSTATUS is STATUS_UNSUCCESSFUL.
    public static var unsuccessful: NTStatus { NTStatus(rawValue: 0xC000_0001) }
    /// A handle was freed, never issued, or belongs to another client. The corresponding NTSTATUS is STATUS_INVALID_HANDLE.
    public static var invalidHandle: NTStatus { NTStatus(rawValue: 0xC000_0008) }
    /// A parameter value is wrong. The corresponding NTSTATUS is STATUS_INVALID_PARAMETER.
    public static var invalidParameter: NTStatus { NTStatus(rawValue: 0xC000_000D) }
    /// The request is not allowed in the object's current state. The corresponding NTSTATUS is STATUS_INVALID_DEVICE_REQUEST.
    public static var invalidDeviceRequest: NTStatus { NTStatus(rawValue: 0xC000_0010) }
    /// The engine's FIFO cannot hold one frame of the format. The corresponding NTSTATUS is STATUS_BUFFER_TOO_SMALL.
    public static var bufferTooSmall: NTStatus { NTStatus(rawValue: 0xC000_0023) }
    /// No engine, tag, bandwidth or memory is left. The corresponding NTSTATUS is STATUS_INSUFFICIENT_RESOURCES.
    public static var insufficientResources: NTStatus { NTStatus(rawValue: 0xC000_009A) }
    /// The hardware did not respond in time. The corresponding NTSTATUS is STATUS_DEVICE_NOT_READY.
    public static var deviceNotReady: NTStatus { NTStatus(rawValue: 0xC000_00A3) }

    /// Every status the DDI can return, in numeric order.
    public static let allKnown: [NTStatus] = [
        .success, .unsuccessful, .invalidHandle, .invalidParameter,
        .invalidDeviceRequest, .bufferTooSmall, .insufficientResources, .deviceNotReady,
    ]

    /// The NTSTATUS name (`STATUS_INVALID_HANDLE`), or nil for a value Azalia does not know.
    public var name: String? {
        switch rawValue {
        case 0x0000_0000: "STATUS_SUCCESS"
        case 0xC000_0001: "STATUS_UNSUCCESSFUL"
        case 0xC000_0008: "STATUS_INVALID_HANDLE"
        case 0xC000_000D: "STATUS_INVALID_PARAMETER"
        case 0xC000_0010: "STATUS_INVALID_DEVICE_REQUEST"
        case 0xC000_0023: "STATUS_BUFFER_TOO_SMALL"
        case 0xC000_009A: "STATUS_INSUFFICIENT_RESOURCES"
        case 0xC000_00A3: "STATUS_DEVICE_NOT_READY"
        default: nil
        }
    }

    /// The status looked up by its NTSTATUS name, for tools that take names.
    public init?(name: String) {
        guard let match = NTStatus.allKnown.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    /// True for STATUS_SUCCESS (and any other non-error severity).
    public var isSuccess: Bool { rawValue & 0xC000_0000 != 0xC000_0000 }

    /// The raw value as eight hex digits, `0xC0000008`.
    public var hexString: String { rawValue.hexLiteral }

    /// `STATUS_INVALID_HANDLE (0xC0000008)`.
    public var description: String { "\(name ?? "NTSTATUS") (\(hexString))" }
}
