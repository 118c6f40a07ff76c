public import HDAudio

/// AllocateRenderDmaEngine / AllocateCaptureDmaEngine outputs.
public struct DmaEngineAllocation: Hashable, Sendable {
    /// The engine's handle.
    public let handle: DmaEngineHandle
    /// The format encoded for the codec's converter (the vocabulary's encoding).
    public let converterFormat: ConverterFormat
}

/// AllocateDmaBuffer outputs.
public struct DmaBufferAllocation: Hashable, Sendable {
    /// BufferMdl: the buffer's pages.
    public let mdl: MemoryDescriptorList
    /// AllocatedBufferSize in bytes.
    public let allocatedBufferSize: Int
    /// StreamId: the engine's stream tag.
    public let streamId: UInt8
    /// FifoSize: SDnFIFOS + 1, in bytes.
    public let fifoSize: UInt32
}

/// AllocateDmaBufferWithNotification outputs.
public struct NotificationBufferAllocation: Hashable, Sendable {
    /// BufferMdl: the buffer's pages.
    public let mdl: MemoryDescriptorList
    /// AllocatedBufferSize in bytes.
    public let allocatedBufferSize: Int
    /// OffsetFromFirstPage: always 0 (reference section 5 Decision).
    public let offsetFromFirstPage: Int
    /// StreamId: the engine's stream tag.
    public let streamId: UInt8
    /// FifoSize: SDnFIFOS + 1, in bytes.
    public let fifoSize: UInt32
}

/// AllocateContiguousDmaBuffer outputs.
public struct ContiguousDmaBuffer: Hashable, Sendable {
    /// DataBuffer: the physically contiguous data buffer (whole pages).
    public let dataBuffer: DmaMemory
    /// BdlBuffer: one page-aligned page for the client's BDL, uninitialised.
    public let bdlBuffer: DmaMemory
}

/// SetupDmaEngineWithBdl outputs.
public struct BdlEngineSetup: Hashable, Sendable {
    /// StreamId: the engine's stream tag.
    public let streamId: UInt8
    /// FifoSize: SDnFIFOS + 1, in bytes.
    public let fifoSize: UInt32
}

/// The ISR a BDL-interface client passes to SetupDmaEngineWithBdl (PHDAUDIO_DMA_NOTIFICATION_CALLBACK).
///
/// Called at DIRQL with InterruptBitMask holding only bits 2 (BCIS), 3 (FIFOE) and 4
/// (DESE) of SDnSTS, for errors as well as for IOC, and with the client's context.
public typealias BdlInterruptHandler = @Sendable (_ interruptBitMask: UInt32, _ context: UInt) -> Void

/// HDAUDIO_DEVICE_INFORMATION (BASE) or HDAUDIO_DEVICE_INFORMATION_V2, by Size.
public struct DeviceInformation: Hashable, Sendable {
    /// sizeof(HDAUDIO_DEVICE_INFORMATION): 10 bytes.
    public static let baseSize = 10
    /// sizeof(HDAUDIO_DEVICE_INFORMATION_V2): 14 bytes.
    public static let v2Size = 14

    /// Size: the size of the form filled (baseSize or v2Size).
    public var size: Int
    /// DeviceVersion: VMAJ << 8 | VMIN.
    public var deviceVersion: UInt16
    /// DriverVersion: the bus driver's version.
    public var driverVersion: UInt16
    /// CodecsDetected: the number of codecs STATESTS showed at start.
    public var codecsDetected: UInt16
    /// IsStripingSupported: at least two SDO lines (GCAP.NSDO).
    public var isStripingSupported: Bool
    /// V2 only: CtrlRevision, the PCI revision id.
    public var ctrlRevision: UInt8?
    /// V2 only: CtrlVendorId, the PCI vendor id.
    public var ctrlVendorId: UInt16?
    /// V2 only: CtrlDeviceId, the PCI device id.
    public var ctrlDeviceId: UInt16?
}

/// A live, read-only view of a 32-bit counter register (GetWallClockRegister,
/// GetLinkPositionRegister): every read of `value` reads the hardware.
public struct RegisterView: Sendable {
    let reader: @Sendable () -> UInt32
    /// The register's current value.
    public var value: UInt32 { reader() }
}
