#!/usr/bin/env pwsh
# The release files (README, "Releases"): for each runtime, a native (NativeAOT) mtt-mu-server, a tarball with it,
# the unit, README and LICENSE, a .deb, and SHA256SUMS over them all, in artifacts/release/.
# Usage: package.ps1 [linux-x64] [linux-arm64] [-Output dir]. Cross-building linux-arm64 natively needs clang, lld
# and Debian's arm64 multiarch -dev libraries (.ci/install-test-prerequisites.sh installs them); without them the
# arm64 binary is built self-contained (with its .NET runtime, not native) and the script says so.
$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent
$output = Join-Path $root 'artifacts/release'
$rids = @()
for ($i = 0; $i -lt $args.Count; $i++) {
    if ($args[$i] -eq '-Output') { $output = [IO.Path]::GetFullPath($args[++$i]); continue }
    $rids += $args[$i]
}
if ($rids.Count -eq 0) { $rids = @('linux-x64', 'linux-arm64') }

$version = ([xml](Get-Content (Join-Path $root 'Directory.Build.props'))).Project.PropertyGroup.VersionPrefix | Where-Object { $_ } | Select-Object -First 1
$commit = (& git -C $root rev-parse HEAD 2>$null)
if ($LASTEXITCODE -ne 0 -or -not $commit) { $commit = 'unknown' }
# A tree with uncommitted changes is not that commit: say so in -version.
if ($commit -ne 'unknown' -and (& git -C $root status --porcelain --untracked-files=no)) { $commit = "$commit-dirty" }

# Built apart from obj/ and bin/, so that packaging never disturbs a build or a test run of the same tree.
$buildRoot = Join-Path $root 'artifacts/package-build'
New-Item -ItemType Directory -Force -Path $output | Out-Null

function Invoke-Checked([string] $Command, [string[]] $Arguments) {
    Write-Host "> $Command $($Arguments -join ' ')"
    # To the host, not the pipeline: the function's value must be the bool alone.
    & $Command @Arguments | Out-Host
    return $LASTEXITCODE -eq 0
}

$made = @()
foreach ($rid in $rids) {
    $arch = switch ($rid) { 'linux-x64' { 'amd64' } 'linux-arm64' { 'arm64' } default { throw "unsupported runtime $rid" } }
    $name = "mtt-mu-server-$version-$rid"
    $stage = Join-Path $buildRoot $rid
    Remove-Item -Recurse -Force $stage -ErrorAction SilentlyContinue
    $bin = Join-Path $stage 'bin'
    $common = @('publish', (Join-Path $root 'Mtt.Daemon/Mtt.Daemon.csproj'), '-c', 'Release', '-r', $rid, '--artifacts-path', (Join-Path $buildRoot "build-$rid"),
        "-p:SourceRevisionId=$commit", '-p:DebugType=none', '-p:StripSymbols=true', '-o', $bin)
    $kind = 'native (NativeAOT)'
    if (-not (Invoke-Checked dotnet ($common + @('-p:PublishAot=true')))) {
        Write-Warning "$rid`: the NativeAOT build failed here; building it self-contained (with its .NET runtime) instead"
        Remove-Item -Recurse -Force $bin -ErrorAction SilentlyContinue
        $kind = 'self-contained (not native)'
        if (-not (Invoke-Checked dotnet ($common + @('--self-contained', 'true', '-p:PublishTrimmed=true')))) { exit 1 }
    }
    Get-ChildItem $bin -Filter '*.dbg' | Remove-Item
    Get-ChildItem $bin -Filter '*.pdb' | Remove-Item

    # The tarball: mtt-mu-server-VERSION-RID/ with the binary (or the self-contained folder), the unit, README, LICENSE.
    $tree = Join-Path $stage $name
    New-Item -ItemType Directory -Force -Path $tree | Out-Null
    Copy-Item -Recurse (Join-Path $bin '*') $tree
    Copy-Item (Join-Path $root 'packaging/mtt-mu-server.service'), (Join-Path $root 'README.md'), (Join-Path $root 'LICENSE') $tree
    $tarball = "$name.tar.gz"
    if (-not (Invoke-Checked tar @('--owner=0', '--group=0', '-czf', (Join-Path $output $tarball), '-C', $stage, $name))) { exit 1 }

    # The .deb: the binary in /opt/mtt-mu-server (where the unit runs it), a /usr/bin link, the unit, the
    # sysusers and tmpfiles entries, and the example env file.
    $deb = Join-Path $stage 'deb'
    $opt = Join-Path $deb 'opt/mtt-mu-server'
    foreach ($dir in @('DEBIAN', 'opt/mtt-mu-server', 'usr/bin', 'lib/systemd/system', 'usr/lib/sysusers.d', 'usr/lib/tmpfiles.d', 'usr/share/doc/mtt-mu-server')) {
        New-Item -ItemType Directory -Force -Path (Join-Path $deb $dir) | Out-Null
    }
    Copy-Item -Recurse (Join-Path $bin '*') $opt
    Copy-Item (Join-Path $root 'README.md'), (Join-Path $root 'LICENSE') $opt
    & ln -s /opt/mtt-mu-server/mtt-mu-server (Join-Path $deb 'usr/bin/mtt-mu-server')
    Copy-Item (Join-Path $root 'packaging/mtt-mu-server.service') (Join-Path $deb 'lib/systemd/system/')
    Copy-Item (Join-Path $root 'packaging/deb/sysusers.conf') (Join-Path $deb 'usr/lib/sysusers.d/mtt-mu-server.conf')
    Copy-Item (Join-Path $root 'packaging/deb/tmpfiles.conf') (Join-Path $deb 'usr/lib/tmpfiles.d/mtt-mu-server.conf')
    Copy-Item (Join-Path $root 'packaging/deb/env.example') (Join-Path $deb 'usr/share/doc/mtt-mu-server/env.example')
    Copy-Item (Join-Path $root 'LICENSE') (Join-Path $deb 'usr/share/doc/mtt-mu-server/copyright')
    (Get-Content -Raw (Join-Path $root 'packaging/deb/control')).Replace('@VERSION@', $version).Replace('@ARCH@', $arch) |
        Set-Content -NoNewline (Join-Path $deb 'DEBIAN/control')
    foreach ($script in @('postinst', 'postrm')) {
        Copy-Item (Join-Path $root "packaging/deb/$script") (Join-Path $deb "DEBIAN/$script")
        & chmod 755 (Join-Path $deb "DEBIAN/$script")
    }
    $debFile = "mtt-mu-server_${version}_$arch.deb"
    if (-not (Invoke-Checked dpkg-deb @('--root-owner-group', '-Zxz', '--build', $deb, (Join-Path $output $debFile)))) { exit 1 }

    Copy-Item (Join-Path $bin 'mtt-mu-server') (Join-Path $output "mtt-mu-server-$rid")
    $made += @("mtt-mu-server-$rid", $tarball, $debFile)
    Write-Host "$rid`: $kind, commit $commit"
}

$sums = foreach ($file in $made) { "$((Get-FileHash -Algorithm SHA256 (Join-Path $output $file)).Hash.ToLowerInvariant())  $file" }
Set-Content -Path (Join-Path $output 'SHA256SUMS') -Value $sums
Write-Host "release files in $output`: $($made -join ', '), SHA256SUMS"
