import CAzalia
import HDAudio
import HDAudioBus

// The routines behind the C interface tables. Each looks the Context up (an unknown one is
// STATUS_INVALID_PARAMETER), refuses NULL out-parameters (STATUS_INVALID_PARAMETER), and
// otherwise calls the Swift interface and returns its status: the DDI's rules live there.

func nt(_ status: NTStatus) -> NTSTATUS { NTSTATUS(bitPattern: status.rawValue) }
let invalidParameter = nt(.invalidParameter)

/// A C stream format as the vocabulary's.
func streamFormat(_ f: HDAUDIO_STREAM_FORMAT) -> StreamFormat {
    StreamFormat(sampleRate: f.SampleRate, validBitsPerSample: f.ValidBitsPerSample,
                 containerSize: f.ContainerSize, numberOfChannels: f.NumberOfChannels)
}

/// A response as HDAUDIO_CODEC_RESPONSE's 64 bits.
func completeResponse(_ r: CodecResponse) -> UInt64 {
    UInt64(r.response) | UInt64(r.sdataIn & 0xF) << 32 | (r.isUnsolicited ? 1 << 36 : 0)
        | (r.hasFifoOverrun ? 1 << 62 : 0) | (r.isValid ? 1 << 63 : 0)
}

func handleValue(_ h: HANDLE?) -> UInt { UInt(bitPattern: h) }

enum Routines {
    static func withClient(_ context: PVOID?, _ body: (CClient) -> NTSTATUS) -> NTSTATUS {
        guard let c = Registry.client(context) else { return invalidParameter }
        return body(c)
    }

    // MARK: common

    static let reference: PINTERFACE_REFERENCE = { context in Registry.client(context)?.reference() }
    static let dereference: PINTERFACE_DEREFERENCE = { context in Registry.client(context)?.dereference() }

    static let transferCodecVerbs: PTRANSFER_CODEC_VERBS = { context, count, transfers, callback, callbackContext in
        withClient(context) { c in
            guard count == 0 || transfers != nil else { return invalidParameter }
            let list = (0..<Int(count)).map { CodecTransfer(verb: transfers![$0].Output.Command) }
            let address = UInt(bitPattern: transfers)
            let write: @Sendable ([CodecTransfer]) -> Void = { done in
                guard let p = UnsafeMutablePointer<HDAUDIO_CODEC_TRANSFER>(bitPattern: address) else { return }
                for (i, t) in done.enumerated() { p[i].Input.CompleteResponse = completeResponse(t.input) }
            }
            guard let callback else {
                return c.call { () throws(NTStatus) in write(try c.interface.transferCodecVerbs(list)) }
            }
            let routine = UInt(bitPattern: unsafeBitCast(callback, to: UnsafeRawPointer.self))
            let sys = c.system
            return c.call { () throws(NTStatus) in
                try c.interface.transferCodecVerbs(list, callback: { done, ctx in
                    write(done)
                    let f = unsafeBitCast(UnsafeRawPointer(bitPattern: routine)!, to: PHDAUDIO_TRANSFER_COMPLETE_CALLBACK.self)
                    sys.callOut { f(UnsafeMutablePointer(bitPattern: address), UnsafeMutableRawPointer(bitPattern: ctx)) }
                }, context: UInt(bitPattern: callbackContext))
            }
        }
    }

    static func allocated(_ c: CClient, _ a: DmaEngineAllocation, _ direction: StreamDirection,
                          _ handle: UnsafeMutablePointer<HANDLE?>, _ converter: UnsafeMutablePointer<HDAUDIO_CONVERTER_FORMAT>) {
        c.books.withLock { $0.directions[a.handle.rawValue] = direction }
        handle.pointee = HANDLE(bitPattern: a.handle.rawValue)
        converter.pointee.ConverterFormat = a.converterFormat.rawValue
    }

    static let allocateCaptureDmaEngine: PALLOCATE_CAPTURE_DMA_ENGINE = { context, codecAddress, format, handle, converter in
        withClient(context) { c in
            guard let format, let handle, let converter else { return invalidParameter }
            return c.call { () throws(NTStatus) in
                let a = try c.interface.allocateCaptureDmaEngine(codecAddress: Int(codecAddress), format: streamFormat(format.pointee))
                allocated(c, a, .capture, handle, converter)
            }
        }
    }

    static let allocateRenderDmaEngine: PALLOCATE_RENDER_DMA_ENGINE = { context, format, stripe, handle, converter in
        withClient(context) { c in
            guard let format, let handle, let converter else { return invalidParameter }
            return c.call { () throws(NTStatus) in
                let a = try c.interface.allocateRenderDmaEngine(format: streamFormat(format.pointee), stripe: stripe != 0)
                allocated(c, a, .render, handle, converter)
            }
        }
    }

    static let changeBandwidthAllocation: PCHANGE_BANDWIDTH_ALLOCATION = { context, handle, format, converter in
        withClient(context) { c in
            guard let format, let converter else { return invalidParameter }
            return c.call { () throws(NTStatus) in
                let f = try c.interface.changeBandwidthAllocation(DmaEngineHandle(rawValue: handleValue(handle)), format: streamFormat(format.pointee))
                converter.pointee.ConverterFormat = f.rawValue
            }
        }
    }

    static let freeDmaEngine: PFREE_DMA_ENGINE = { context, handle in
        withClient(context) { c in
            c.call { () throws(NTStatus) in
                try c.interface.freeDmaEngine(DmaEngineHandle(rawValue: handleValue(handle)))
                c.books.withLock { b in
                    b.directions[handleValue(handle)] = nil
                    b.positions[handleValue(handle)] = nil
                }
            }
        }
    }

    static let setDmaEngineState: PSET_DMA_ENGINE_STATE = { context, state, count, handles in
        withClient(context) { c in
            guard count == 0 || handles != nil, let s = StreamState(rawValue: state.rawValue) else { return invalidParameter }
            let list = (0..<Int(count)).map { DmaEngineHandle(rawValue: handleValue(handles![$0])) }
            return c.call { () throws(NTStatus) in try c.interface.setDmaEngineState(s, handles: list) }
        }
    }

    static let getWallClockRegister: PGET_WALL_CLOCK_REGISTER = { context, wallclock in
        guard let wallclock else { return }
        wallclock.pointee = nil
        guard let c = Registry.client(context) else { return }
        _ = c.call { () throws(NTStatus) in
            let view = try c.interface.getWallClockRegister()
            c.system.wallClockViewStore.withLock { if $0 == nil { $0 = view } }
            c.system.refreshRegisters()
            wallclock.pointee = UnsafeMutablePointer(bitPattern: c.system.wallClockSlot)
        }
    }

    static let getLinkPositionRegister: PGET_LINK_POSITION_REGISTER = { context, handle, position in
        withClient(context) { c in
            guard let position else { return invalidParameter }
            return c.call { () throws(NTStatus) in
                let view = try c.interface.getLinkPositionRegister(DmaEngineHandle(rawValue: handleValue(handle)))
                let slot = c.books.withLock { $0.positions[handleValue(handle)] } ?? c.system.registerSlot(for: view)
                c.books.withLock { $0.positions[handleValue(handle)] = slot }
                position.pointee = UnsafeMutablePointer(bitPattern: slot)
            }
        }
    }

    static let registerEventCallback: PREGISTER_EVENT_CALLBACK = { context, routine, routineContext, tag in
        withClient(context) { c in
            guard let routine, let tag else { return invalidParameter }
            let address = UInt(bitPattern: unsafeBitCast(routine, to: UnsafeRawPointer.self))
            let sys = c.system
            return c.call { () throws(NTStatus) in
                tag.pointee = try c.interface.registerEventCallback({ response, ctx in
                    let f = unsafeBitCast(UnsafeRawPointer(bitPattern: address)!, to: PHDAUDIO_UNSOLICITED_RESPONSE_CALLBACK.self)
                    var r = HDAUDIO_CODEC_RESPONSE()
                    r.CompleteResponse = completeResponse(response)
                    sys.callOut { f(r, UnsafeMutableRawPointer(bitPattern: ctx)) }
                }, context: UInt(bitPattern: routineContext))
            }
        }
    }

    static let unregisterEventCallback: PUNREGISTER_EVENT_CALLBACK = { context, tag in
        withClient(context) { c in c.call { () throws(NTStatus) in try c.interface.unregisterEventCallback(tag: tag) } }
    }

    static let getDeviceInformation: PGET_DEVICE_INFORMATION = { context, info in
        withClient(context) { c in
            guard let info else { return invalidParameter }
            return c.call { () throws(NTStatus) in
                let d = try c.interface.getDeviceInformation(size: Int(info.pointee.Size))
                info.pointee.DeviceVersion = d.deviceVersion
                info.pointee.DriverVersion = d.driverVersion
                info.pointee.CodecsDetected = d.codecsDetected
                info.pointee.IsStripingSupported = d.isStripingSupported ? 1 : 0
                if d.size >= DeviceInformation.v2Size {
                    UnsafeMutableRawPointer(info).withMemoryRebound(to: HDAUDIO_DEVICE_INFORMATION_V2.self, capacity: 1) { v2 in
                        v2.pointee.CtrlRevision = d.ctrlRevision ?? 0
                        v2.pointee.CtrlVendorId = d.ctrlVendorId ?? 0
                        v2.pointee.CtrlDeviceId = d.ctrlDeviceId ?? 0
                    }
                }
            }
        }
    }

    static let getResourceInformation: PGET_RESOURCE_INFORMATION = { context, codecAddress, startNode in
        guard let codecAddress, let startNode, let c = Registry.client(context) else { return }
        _ = c.call { () throws(NTStatus) in
            let r = try c.interface.getResourceInformation()
            codecAddress.pointee = UInt8(truncatingIfNeeded: r.codecAddress)
            startNode.pointee = r.functionGroupStartNode
        }
    }

    // MARK: BASE and V2 buffers

    /// A C MDL over a new host copy of the buffer's pages.
    static func makeMdl(_ c: CClient, handle: UInt, _ mdl: MemoryDescriptorList) -> PMDL {
        let direction = c.books.withLock { $0.directions[handle] } ?? .render
        let copy = c.system.addMirror(length: mdl.byteCount, pages: mdl.pages, driverWrites: direction == .render, client: c.token)
        let bytes = MemoryLayout<MDL>.stride + mdl.pages.count * MemoryLayout<PFN_NUMBER>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 16)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        let p = raw.bindMemory(to: MDL.self, capacity: 1)
        p.pointee.Size = CSHORT(truncatingIfNeeded: bytes)
        p.pointee.MdlFlags = CSHORT(MDL_MAPPED_TO_SYSTEM_VA)
        p.pointee.MappedSystemVa = copy
        p.pointee.StartVa = copy
        p.pointee.ByteCount = ULONG(truncatingIfNeeded: mdl.byteCount)
        p.pointee.ByteOffset = ULONG(truncatingIfNeeded: mdl.byteOffset)
        let pfns = (raw + MemoryLayout<MDL>.stride).bindMemory(to: PFN_NUMBER.self, capacity: mdl.pages.count)
        for (i, page) in mdl.pages.enumerated() { pfns[i] = PFN_NUMBER(page >> 12) }
        c.books.withLock { $0.mdls[handle] = (UInt(bitPattern: p), mdl) }
        return p
    }

    /// Frees a handle's C MDL and its host copy.
    static func dropMdl(_ c: CClient, handle: UInt) {
        guard let entry = c.books.withLock({ $0.mdls.removeValue(forKey: handle) }),
              let p = UnsafeMutablePointer<MDL>(bitPattern: entry.mdl) else { return }
        c.system.removeMirror(UInt(bitPattern: p.pointee.MappedSystemVa))
        UnsafeMutableRawPointer(p).deallocate()
    }

    static let allocateDmaBuffer: PALLOCATE_DMA_BUFFER = { context, handle, requested, mdl, allocatedSize, streamId, fifoSize in
        withClient(context) { c in
            guard let mdl, let allocatedSize, let streamId, let fifoSize else { return invalidParameter }
            guard let i = c.interface as? any DmaBufferRoutines else { return nt(.invalidDeviceRequest) }
            return c.call { () throws(NTStatus) in
                let r = try i.allocateDmaBuffer(DmaEngineHandle(rawValue: handleValue(handle)),
                                                requestedBufferSize: Int(clamping: requested))
                mdl.pointee = makeMdl(c, handle: handleValue(handle), r.mdl)
                allocatedSize.pointee = SIZE_T(r.allocatedBufferSize)
                streamId.pointee = r.streamId
                fifoSize.pointee = r.fifoSize
            }
        }
    }

    static let freeDmaBuffer: PFREE_DMA_BUFFER = { context, handle in
        withClient(context) { c in
            guard let i = c.interface as? any DmaBufferRoutines else { return nt(.invalidDeviceRequest) }
            return c.call { () throws(NTStatus) in
                try i.freeDmaBuffer(DmaEngineHandle(rawValue: handleValue(handle)))
                dropMdl(c, handle: handleValue(handle))
            }
        }
    }

    static let allocateDmaBufferWithNotification: PALLOCATE_DMA_BUFFER_WITH_NOTIFICATION = {
        context, handle, count, requested, mdl, allocatedSize, offset, streamId, fifoSize in
        withClient(context) { c in
            guard let mdl, let allocatedSize, let offset, let streamId, let fifoSize else { return invalidParameter }
            guard let i = c.interface as? any NotificationRoutines else { return nt(.invalidDeviceRequest) }
            return c.call { () throws(NTStatus) in
                let r = try i.allocateDmaBufferWithNotification(DmaEngineHandle(rawValue: handleValue(handle)),
                                                                notificationCount: Int(count),
                                                                requestedBufferSize: Int(clamping: requested))
                mdl.pointee = makeMdl(c, handle: handleValue(handle), r.mdl)
                allocatedSize.pointee = SIZE_T(r.allocatedBufferSize)
                offset.pointee = SIZE_T(r.offsetFromFirstPage)
                streamId.pointee = r.streamId
                fifoSize.pointee = r.fifoSize
            }
        }
    }

    static let freeDmaBufferWithNotification: PFREE_DMA_BUFFER_WITH_NOTIFICATION = { context, handle, mdl, size in
        withClient(context) { c in
            guard let i = c.interface as? any NotificationRoutines else { return nt(.invalidDeviceRequest) }
            // The Swift MDL the C one stands for; an MDL this library did not hand out for
            // the handle becomes one that matches no buffer, and the bus says what that is.
            let known = c.books.withLock { $0.mdls[handleValue(handle)] }
            let swift = known.flatMap { $0.mdl == UInt(bitPattern: mdl) ? $0.swift : nil }
                ?? MemoryDescriptorList(pages: [], byteCount: -1)
            return c.call { () throws(NTStatus) in
                try i.freeDmaBufferWithNotification(DmaEngineHandle(rawValue: handleValue(handle)), bufferMdl: swift,
                                                    bufferSize: Int(clamping: size))
                dropMdl(c, handle: handleValue(handle))
            }
        }
    }

    static let registerNotificationEvent: PREGISTER_NOTIFICATION_EVENT = { context, handle, kevent in
        withClient(context) { c in
            guard let kevent else { return invalidParameter }
            guard let i = c.interface as? any NotificationRoutines else { return nt(.invalidDeviceRequest) }
            let e = c.event(for: kevent)
            let status = c.call { () throws(NTStatus) in try i.registerNotificationEvent(DmaEngineHandle(rawValue: handleValue(handle)), event: e) }
            if status == STATUS_SUCCESS {
                Registry.eventSystems.withLock { $0[UInt(bitPattern: kevent)] = c.system.token }
            }
            return status
        }
    }

    static let unregisterNotificationEvent: PUNREGISTER_NOTIFICATION_EVENT = { context, handle, kevent in
        withClient(context) { c in
            guard let kevent else { return invalidParameter }
            guard let i = c.interface as? any NotificationRoutines else { return nt(.invalidDeviceRequest) }
            let e = c.event(for: kevent)
            return c.call { () throws(NTStatus) in try i.unregisterNotificationEvent(DmaEngineHandle(rawValue: handleValue(handle)), event: e) }
        }
    }

    // MARK: V3

    static let registerNotificationCallback: PREGISTER_NOTIFICATION_CALLBACK = { context, handle, fdo, routine, routineContext in
        withClient(context) { c in
            guard let routine else { return invalidParameter }
            guard let i = c.interface as? any NotificationCallbackRoutines else { return nt(.invalidDeviceRequest) }
            let callback = c.callback(for: routine)
            return c.call { () throws(NTStatus) in
                try i.registerNotificationCallback(DmaEngineHandle(rawValue: handleValue(handle)),
                                                   fdo: fdo.map { FdoReference($0) }, callback: callback,
                                                   context: UInt(bitPattern: routineContext))
            }
        }
    }

    static let unregisterNotificationCallback: PUNREGISTER_NOTIFICATION_CALLBACK = { context, handle, routine, routineContext in
        withClient(context) { c in
            guard let routine else { return invalidParameter }
            guard let i = c.interface as? any NotificationCallbackRoutines else { return nt(.invalidDeviceRequest) }
            let callback = c.callback(for: routine)
            return c.call { () throws(NTStatus) in
                try i.unregisterNotificationCallback(DmaEngineHandle(rawValue: handleValue(handle)), callback: callback,
                                                     context: UInt(bitPattern: routineContext))
            }
        }
    }

    // MARK: BDL

    static let allocateContiguousDmaBuffer: PALLOCATE_CONTIGUOUS_DMA_BUFFER = { context, handle, requested, data, bdl in
        withClient(context) { c in
            guard let data, let bdl else { return invalidParameter }
            guard let i = c.interface as? any BdlRoutines else { return nt(.invalidDeviceRequest) }
            return c.call { () throws(NTStatus) in
                let r = try i.allocateContiguousDmaBuffer(DmaEngineHandle(rawValue: handleValue(handle)), requestedBufferSize: Int(requested))
                let page = c.system.platform.pageSize
                func pages(_ m: DmaMemory) -> [UInt64] {
                    stride(from: 0, to: max(m.length, 1), by: page).map { m.address + UInt64($0) }
                }
                let direction = c.books.withLock { $0.directions[handleValue(handle)] } ?? .render
                let d = c.system.addMirror(length: r.dataBuffer.length, pages: pages(r.dataBuffer),
                                           driverWrites: direction == .render, client: c.token)
                let b = c.system.addMirror(length: r.bdlBuffer.length, pages: pages(r.bdlBuffer), driverWrites: true, client: c.token)
                c.books.withLock { $0.contiguous[handleValue(handle)] = (UInt(bitPattern: d), UInt(bitPattern: b)) }
                data.pointee = d
                bdl.pointee = b.bindMemory(to: HDAUDIO_BUFFER_DESCRIPTOR.self, capacity: 1)
            }
        }
    }

    static let setupDmaEngineWithBdl: PSETUP_DMA_ENGINE_WITH_BDL = { context, handle, length, lvi, isr, isrContext, streamId, fifoSize in
        withClient(context) { c in
            guard let isr, let streamId, let fifoSize else { return invalidParameter }
            guard let i = c.interface as? any BdlRoutines else { return nt(.invalidDeviceRequest) }
            let address = UInt(bitPattern: unsafeBitCast(isr, to: UnsafeRawPointer.self))
            let sys = c.system
            return c.call { () throws(NTStatus) in
                let r = try i.setupDmaEngineWithBdl(DmaEngineHandle(rawValue: handleValue(handle)), bufferLength: length,
                                                    lvi: UInt16(clamping: lvi), isr: { mask, ctx in
                    let f = unsafeBitCast(UnsafeRawPointer(bitPattern: address)!, to: PHDAUDIO_BDL_ISR.self)
                    sys.callOut { f(UnsafeMutableRawPointer(bitPattern: ctx), mask) }
                }, context: UInt(bitPattern: isrContext))
                streamId.pointee = r.streamId
                fifoSize.pointee = r.fifoSize
            }
        }
    }

    static let freeContiguousDmaBuffer: PFREE_CONTIGUOUS_DMA_BUFFER = { context, handle in
        withClient(context) { c in
            guard let i = c.interface as? any BdlRoutines else { return nt(.invalidDeviceRequest) }
            return c.call { () throws(NTStatus) in
                try i.freeContiguousDmaBuffer(DmaEngineHandle(rawValue: handleValue(handle)))
                if let pair = c.books.withLock({ $0.contiguous.removeValue(forKey: handleValue(handle)) }) {
                    c.system.removeMirror(pair.data)
                    c.system.removeMirror(pair.bdl)
                }
            }
        }
    }
}
