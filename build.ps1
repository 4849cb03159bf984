#!/usr/bin/env pwsh
# Build, test, publish and benchmark mtt-mu-server. On Linux, PowerShell comes from the repository's
# tool manifest: `dotnet tool restore && dotnet pwsh ./build.ps1 <target>`.
# Arguments after the target go to the underlying command, e.g. `bench --filter '*Framer*' --job short`.
# (A plain script, not an advanced one, so that dotnet-style `--flags` reach $args untouched.)
# `package` makes the release files for linux-x64 and linux-arm64 into artifacts/release/ (`package linux-arm64` for one).
# `publish -aot` builds a native executable (no .NET runtime needed; clang and zlib1g-dev must be installed).
param(
    [ValidateSet('build', 'test', 'publish', 'package', 'bench')]
    [string] $Target = 'build'
)
$Configuration = 'Release'
$Aot = $args -contains '-aot'
$Rest = @($args | Where-Object { $_ -ne '--' -and $_ -ne '-aot' })

$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

function Invoke-Step([string] $Command, [string[]] $Arguments) {
    Write-Host "> $Command $($Arguments -join ' ')"
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

switch ($Target) {
    'build' {
        Invoke-Step dotnet (@('build', 'MosTlsTunnel.sln', '-c', $Configuration) + $Rest)
    }
    'test' {
        $prerequisites = Join-Path $PSScriptRoot '.ci/install-test-prerequisites.sh'
        if ($IsLinux -and (Test-Path $prerequisites)) { Invoke-Step bash @($prerequisites) }
        Invoke-Step dotnet (@('test', 'MosTlsTunnel.sln', '-c', $Configuration, '--logger', 'console;verbosity=normal') + $Rest)
    }
    'publish' {
        if ($Aot) {
            Invoke-Step dotnet (@('publish', 'Mtt.Daemon/Mtt.Daemon.csproj', '-c', 'Release', '-r', 'linux-x64', '-p:PublishAot=true', '-o', 'artifacts/mtt-mu-server-aot') + $Rest)
            Write-Host "published: artifacts/mtt-mu-server-aot/mtt-mu-server (native)"
            exit 0
        }
        Invoke-Step dotnet (@('publish', 'Mtt.Daemon/Mtt.Daemon.csproj', '-c', 'Release', '-r', 'linux-x64', '--self-contained', 'true', '-p:PublishTrimmed=true', '-o', 'artifacts/mtt-mu-server') + $Rest)
        Write-Host "published: artifacts/mtt-mu-server/mtt-mu-server (with its own .NET runtime)"
    }
    'package' {
        & (Join-Path $PSScriptRoot 'packaging/package.ps1') @Rest
        if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
    }
    'bench' {
        $arguments = if ($Rest.Count -gt 0) { $Rest } else { @('--filter', '*') }
        Invoke-Step dotnet (@('run', '-c', 'Release', '--project', 'Mtt.Benchmarks', '--') + $arguments)
    }
}
