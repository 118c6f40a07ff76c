import HDAudio

// SetDmaEngineState, GetWallClockRegister, GetLinkPositionRegister and GetDeviceInformation,
// as the interfaces call them with the client's id.
extension HDAudioBus {

    /// SetDmaEngineState, for the client `client`: validates everything first, then moves
    /// the engines together (rules, statuses and what a failed handshake leaves behind:
    /// `HDAudioBusInterface.setDmaEngineState(_:handles:)`).
    func setDmaEngineState(client: UInt32, state target: StreamState, handles: [DmaEngineHandle]) throws(NTStatus) {
        try require(.dispatch)
        guard !handles.isEmpty else { throw .invalidParameter }
        try locked { (s: inout BusState) throws(NTStatus) in
            var indices: [Int] = []
            for h in handles {
                let i = try s.index(of: h, client: client)
                if !indices.contains(i) { indices.append(i) }
            }
            for i in indices {
                let a = s.engines[i].allocation!
                guard a.state.canMove(to: target) else { throw .invalidDeviceRequest }
                if target != .reset && !a.hasRunnableBuffer { throw .invalidDeviceRequest }
            }
            // An engine whose last Reset timed out is unprogrammed: running it would only
            // raise a descriptor error, so Run is DEVICE_NOT_READY until a Reset succeeds.
            if target == .run, indices.contains(where: { s.engines[$0].allocation!.needsReset }) { throw .deviceNotReady }
            let moving = indices.filter { s.engines[$0].allocation!.state != target }
            var ok = true
            switch target {
            case .run:
                ok = startTogether(moving)
                for i in moving { s.engines[i].allocation!.state = ok ? .run : .stop }
            case .stop:
                ok = stopTogether(moving.filter { s.engines[$0].allocation!.state == .run })
                // An engine whose RUN did not read back 0 is still moving: it stays in Run,
                // so the client sees the truth and can ask for Stop again.
                for i in moving {
                    let stillRunning = platform.read8(sd(i, HDARegister.SD.ctl)) & UInt8(StreamControl.run) != 0
                    s.engines[i].allocation!.state = stillRunning ? .run : .stop
                }
            case .reset:
                for i in moving {
                    if streamReset(i) {
                        programBuffer(i, s.engines[i].allocation!)
                        s.engines[i].allocation!.state = .reset
                        s.engines[i].allocation!.needsReset = false
                    } else {
                        makeSafe(i)
                        s.engines[i].allocation!.needsReset = true
                        ok = false
                    }
                }
            }
            if !ok { throw .deviceNotReady }
        }
    }

    /// GetWallClockRegister (`HDAudioBusInterface.getWallClockRegister()`).
    func getWallClockRegister() throws(NTStatus) -> RegisterView {
        try require(.dispatch)
        let p = platform
        return RegisterView { p.read32(HDARegister.walclkAlias) }
    }

    /// GetLinkPositionRegister, for the client `client`
    /// (`HDAudioBusInterface.getLinkPositionRegister(_:)`).
    func getLinkPositionRegister(client: UInt32, handle: DmaEngineHandle) throws(NTStatus) -> RegisterView {
        try require(.dispatch)
        let i = try locked { (s: inout BusState) throws(NTStatus) -> Int in try s.index(of: handle, client: client) }
        let p = platform
        let address = configuration.positionBuffer + UInt64(i * PositionBuffer.entrySize)
        return RegisterView { p.readMemory32(address) ?? 0 }
    }

    /// GetDeviceInformation (`HDAudioBusInterface.getDeviceInformation(size:)`).
    func getDeviceInformation(size: Int) throws(NTStatus) -> DeviceInformation {
        try require(.passive)
        let c = configuration
        guard size >= DeviceInformation.baseSize else { throw .invalidParameter }
        let v2 = size >= DeviceInformation.v2Size
        return DeviceInformation(
            size: v2 ? DeviceInformation.v2Size : DeviceInformation.baseSize,
            deviceVersion: UInt16(c.versionMajor) << 8 | UInt16(c.versionMinor),
            driverVersion: HDAudioBus.driverVersion,
            codecsDetected: UInt16(presentCodecs.nonzeroBitCount),
            isStripingSupported: c.gcap.sdoLines >= 2,
            ctrlRevision: v2 ? c.pci.revision : nil,
            ctrlVendorId: v2 ? c.pci.vendorId : nil,
            ctrlDeviceId: v2 ? c.pci.deviceId : nil)
    }
}
