#if canImport(Glibc)
import Glibc
#endif
import ConnectorKit
import Foundation
import StewardDaemon
import StewardHarness
import ConnectorTestSupport
import Testing

@Suite struct ModuleLoaderTests {
    @Test func theProbeModuleCrossesTheDlopenBoundaryAsAConnectorKitType() throws {
        let folder = try moduleFolder(["probe.so": Binaries.probeModule])
        let loaded = try ModuleLoader.load(folder + "/probe.so", takenKinds: [])
        // The cast inside load() already succeeded; check the object is the process's one type.
        let object: AnyObject = loaded.module
        let module = try #require(object as? any ConnectorModule)
        #expect(module.name == "probe")
        #expect(module.kinds == [ConnectorKind(name: "probe", summary: module.kinds[0].summary)])
        #expect(loaded.info.abiVersion == ModuleABI.version)
        #expect(loaded.info.sha256.count == 64)
    }

    @Test func aGroupWritableModuleIsRefused() throws {
        let folder = try moduleFolder(["probe.so": Binaries.probeModule])
        chmod(folder + "/probe.so", 0o664)
        #expect { try ModuleLoader.load(folder + "/probe.so", takenKinds: []) } throws: {
            ($0 as? ModuleLoader.Refusal)?.reason.contains("writable by group or others") == true
        }
    }

    @Test func aWorldWritableFolderIsRefused() throws {
        let folder = try moduleFolder(["probe.so": Binaries.probeModule])
        chmod(folder, 0o777)
        #expect { try ModuleLoader.load(folder + "/probe.so", takenKinds: []) } throws: {
            ($0 as? ModuleLoader.Refusal)?.reason.contains("its folder is writable") == true
        }
    }

    @Test func aSymbolicLinkIsRefused() throws {
        let folder = try moduleFolder([:])
        try FileManager.default.createSymbolicLink(atPath: folder + "/probe.so", withDestinationPath: Binaries.probeModule)
        #expect { try ModuleLoader.load(folder + "/probe.so", takenKinds: []) } throws: {
            ($0 as? ModuleLoader.Refusal)?.reason.contains("symbolic links are refused") == true
        }
    }

    @Test func aLibraryWithoutTheEntryPointIsRefused() throws {
        let folder = try moduleFolder(["kit.so": Binaries.directory + "/libConnectorKit.so"])
        #expect { try ModuleLoader.load(folder + "/kit.so", takenKinds: []) } throws: {
            ($0 as? ModuleLoader.Refusal)?.reason.contains("has no entry point steward_connector_module") == true
        }
    }

    @Test func aKindProvidedTwiceIsRefusedAndTheFirstModuleStays() throws {
        let folder = try moduleFolder(["probe.so": Binaries.probeModule, "probe-copy.so": Binaries.probeModule])
        let (loaded, refused) = ModuleLoader.loadAll(["probe", "probe-copy"], from: folder)
        #expect(loaded.map(\.info.file) == [folder + "/probe.so"])
        #expect(refused.count == 1)
        #expect(refused.first?.file == folder + "/probe-copy.so")
        #expect(refused.first?.reason.contains("connector kind 'probe'") == true)
    }

    @Test func aMissingModuleIsRefusedWithItsPath() throws {
        let folder = try moduleFolder([:])
        let (loaded, refused) = ModuleLoader.loadAll(["absent"], from: folder)
        #expect(loaded.isEmpty)
        #expect(refused.map(\.description) == ["\(folder)/absent.so: cannot be read: No such file or directory"])
    }
}
