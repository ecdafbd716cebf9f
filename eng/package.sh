#!/usr/bin/env bash
# ./build.sh package: packs Microsoft.ML.Masking into artifacts/package, checks what the package holds, then proves a
# fresh console project can use it: a temp folder outside the repository (so no Directory.*.props apply), a nuget.config
# that adds artifacts/package to the machine's usual sources, a PackageReference by id and exact version, and
# eng/package-smoke/PackageSmoke.cs (train → LayerMask → Evaluate → save → load → identical scores). A second consumer
# that forces another ML.NET release checks that the library refuses it with its clear error.
# The last line is "package: OK <id> <version>"; on any failure the script exits non-zero without it.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

root=$PWD
out=$root/artifacts/package
project=src/Microsoft.ML.Masking
fail() { echo "package: FAILED: $*" >&2; exit 1; }
trap 'echo "package: FAILED at eng/package.sh line $LINENO" >&2' ERR

prop() { dotnet msbuild "$project" -nologo -getProperty:"$1" -p:Configuration=Release "${@:2}"; }
id=$(prop PackageId)
version=$(prop PackageVersion)
mlnet=$(prop MLNetVersion)
[ -n "$id" ] && [ -n "$version" ] && [ -n "$mlnet" ] || fail "could not read PackageId/PackageVersion/MLNetVersion"

# The pack builds in its own folders: ContinuousIntegrationBuild (deterministic, paths mapped to /_/) changes the compiler
# command line, and building into the usual obj/ and bin/ would make the next `./build.sh test` rebuild everything.
rm -rf "$out"; mkdir -p "$out"
echo "== pack $id $version (ML.NET $mlnet)"
dotnet pack "$project" -c Release -o "$out" -nologo \
  -p:ContinuousIntegrationBuild=true \
  -p:BaseIntermediateOutputPath="$root/artifacts/package-build/obj/" \
  -p:BaseOutputPath="$root/artifacts/package-build/bin/"

nupkg=$out/$id.$version.nupkg
snupkg=$out/$id.$version.snupkg
[ -f "$nupkg" ] || fail "no $nupkg"
[ -f "$snupkg" ] || fail "no symbols package $snupkg"

echo "== contents of $(basename "$nupkg")"
unzip -l "$nupkg"
listing=$(unzip -Z1 "$nupkg")
for entry in README.md LICENSE "$id.nuspec" "lib/net10.0/$id.dll" "lib/net10.0/$id.xml"; do
  grep -qx "$entry" <<<"$listing" || fail "$entry is missing from the package"
done
grep -qx "lib/net10.0/$id.pdb" < <(unzip -Z1 "$snupkg") || fail "the symbols package has no $id.pdb"
nuspec=$(unzip -p "$nupkg" "$id.nuspec")
echo "== dependencies"
grep -E '<dependency |<license|<readme|<tags' <<<"$nuspec"
grep -q "id=\"Microsoft.ML\" version=\"\[$mlnet\]\"" <<<"$nuspec" || fail "Microsoft.ML is not pinned to [$mlnet]"
grep -q 'id="libtorch-cpu-linux-x64"\|id="TorchSharp-cuda-linux"' <<<"$nuspec" || fail "no native libtorch dependency"

# A rebuilt package keeps its version, and NuGet would reuse the copy it extracted last time.
packages=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: *//')
rm -rf "${packages%/}/$(tr '[:upper:]' '[:lower:]' <<<"$id")/$version"

consumer() { # consumer FOLDER [EXTRA-ITEMS]: a console project referencing the package, with the smoke program
  local dir=$1 extra=${2:-}
  mkdir -p "$dir"
  cat > "$dir/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="local-artifacts" value="$out" />
  </packageSources>
</configuration>
EOF
  cat > "$dir/Consumer.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="$id" Version="[$version]" />
$extra
  </ItemGroup>
</Project>
EOF
  cp eng/package-smoke/PackageSmoke.cs "$dir/PackageSmoke.cs"
  echo 'Microsoft.ML.Masking.PackageSmoke.PackageSmokeTest.Run(AppContext.BaseDirectory);' > "$dir/Program.cs"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/masking-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== fresh consumer in $tmp/app"
consumer "$tmp/app"
dotnet build "$tmp/app" -c Release -nologo -v:q
bin=$tmp/app/bin/Release/net10.0
ls "$bin"/runtimes/linux-x64/native/ 2>/dev/null | grep -q '^libtorch' \
  || ls "$bin"/libtorch*.so >/dev/null 2>&1 || fail "native libtorch did not reach the consumer's output ($bin)"
dotnet "$bin/Consumer.dll"

# The same consumer on another ML.NET: NuGet only warns (NU1605/NU1608), so the library itself must refuse.
other=5.0.1; [ "$mlnet" = 5.0.1 ] && other=6.0.0
echo "== consumer forcing ML.NET $other (must be refused)"
consumer "$tmp/other" "    <PackageReference Include=\"Microsoft.ML\" Version=\"[$other]\" NoWarn=\"NU1605;NU1608\" />
    <PackageReference Include=\"Microsoft.ML.ImageAnalytics\" Version=\"[$other]\" NoWarn=\"NU1605;NU1608\" />"
dotnet build "$tmp/other" -c Release -nologo -v:q
if dotnet "$tmp/other/bin/Release/net10.0/Consumer.dll" > "$tmp/other.log" 2>&1; then
  cat "$tmp/other.log"; fail "the library ran on ML.NET $other although it was built for $mlnet"
fi
grep -q "built and tested against ML.NET $mlnet, but this process loaded ML.NET $other" "$tmp/other.log" \
  || { cat "$tmp/other.log"; fail "ML.NET $other failed without the version guard's message"; }
grep -m1 'NotSupportedException' "$tmp/other.log" | cut -c1-400

echo "package: OK $id $version"
