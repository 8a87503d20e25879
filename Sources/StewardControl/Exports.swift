/// The control client and the daemon use the system-call wrapper and Unix socket addresses of
/// StewardSystem through StewardControl.
@_exported import StewardSystem
