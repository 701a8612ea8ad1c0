#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# pea images, image inspect, image exists, history, tag, untag, rmi and image
# prune: podman's columns, JSON shapes and messages, checked against what the
# registry says about the images (curl) rather than against pea itself.

load helpers
load image-helpers

bats_require_minimum_version 1.5.0

setup_file() {
        image_setup_file
}

teardown_file() {
        image_teardown_file
}

setup() {
        pea_setup
        require_registry
        BB=$PEA_REGISTRY/busybox
        LY=$PEA_REGISTRY/layers
        run_pea pull -q --tls-verify=false "$BB"
        BB_ID=$output
        run_pea pull -q --tls-verify=false "$LY"
        LY_ID=$output
}

@test "images: podman's columns, sizes and durations" {
        run_pea images
        is "${lines[0]}" "REPOSITORY +TAG +IMAGE ID +CREATED +SIZE"
        assert_line --regexp "^$BB +latest +${BB_ID:0:12} +[0-9]+ (months|years) ago +2\.14 MB$"
        assert_line --regexp "^$LY +latest +${LY_ID:0:12} +[0-9]+ (months|years) ago +2\.22 MB$"

        run_pea images --digests "$BB"
        is "${lines[0]}" "REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE"
        is "${lines[1]}" "$BB +latest +$(reg_digest busybox latest) +${BB_ID:0:12} .*"

        run_pea images --no-trunc --noheading "$BB"
        is "$output" "$BB +latest +sha256:$BB_ID .*"
        run_pea images -n "$BB"
        is "${#lines[@]}" 1 "--noheading: no header"

        run_pea images -q "$BB"
        is "$output" "${BB_ID:0:12}"
        run_pea images -q --no-trunc "$BB"
        is "$output" "sha256:$BB_ID"
}

@test "images --format: table templates, Go templates and JSON" {
        run_pea images --format 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}' "$BB"
        is "${lines[0]}" "REPOSITORY +TAG +IMAGE ID"
        is "${lines[1]}" "$BB +latest +${BB_ID:0:12}"

        run_pea images --format '{{.Repository}}:{{.Tag}} {{.Size}} {{.CreatedAt}}' "$BB"
        is "$output" "$BB:latest 2.14 MB [0-9-]+ [0-9:]+ \+0000 UTC"

        run_pea images --format json
        json_valid "$output"
        local created
        created=$(curl -sf "$REG_URL/v2/busybox/blobs/sha256:$BB_ID" | jq -r .created)
        is "$(jq -r --arg id "$BB_ID" '.[] | select(.Id == $id) | .Names[0]' <<<"$output")" "$BB:latest"
        is "$(jq -r --arg id "$BB_ID" '.[] | select(.Id == $id) | .Digest' <<<"$output")" \
                "$(reg_digest busybox latest)"
        is "$(jq -r --arg id "$BB_ID" '.[] | select(.Id == $id) | .CreatedAt' <<<"$output")" "$created"
        is "$(jq -r --arg id "$BB_ID" '.[] | select(.Id == $id) | .Created' <<<"$output")" \
                "$(date -d "$created" +%s)"
        is "$(jq -r '.[0] | keys_unsorted | join(",")' <<<"$output")" \
                "Id,ParentId,RepoTags,RepoDigests,Size,SharedSize,VirtualSize,Labels,Containers,Names,Digest,History,Created,CreatedAt"
        is "$(jq -r --arg id "$LY_ID" '.[] | select(.Id == $id) | .Labels["io.pea.fixture"]' <<<"$output")" "layers"
}

@test "images --filter and --sort" {
        run_pea images --format '{{.Repository}}' --filter reference='*/layers'
        is "$output" "$LY"
        run_pea images --format '{{.Repository}}' --filter reference=busybox
        is "$output" "$BB"
        run_pea images --format '{{.Repository}}' --filter label=io.pea.fixture=layers
        is "$output" "$LY"
        run_pea images -q --filter dangling=true
        is "$output" ""
        run_pea images -q --filter dangling=false "$BB"
        is "$output" "${BB_ID:0:12}"

        run_pea tag "$BB" zzz/last:1 aaa/first:1
        run_pea images --sort repository --format '{{.Repository}}'
        is "${lines[0]}" "localhost/aaa/first"
        run_pea images --sort tag --format '{{.Tag}}'
        is "${lines[0]}" "1"
        run_pea untag "$BB" zzz/last:1 aaa/first:1

        run_pea 125 images --sort nope
        is "$output" "Error: \"nope\" is not a valid field for sorting.*"
        run_pea 125 images --filter nope=1
        is "$output" "Error: unsupported image filter \"nope\""
}

@test "image inspect: podman's JSON shape and --format" {
        run_pea image inspect "$LY"
        json_valid "$output"
        is "$(jq 'length' <<<"$output")" 1
        is "$(jq -r '.[0].Id' <<<"$output")" "$LY_ID"
        is "$(jq -r '.[0].Digest' <<<"$output")" "$(reg_digest layers latest)"
        is "$(jq -r '.[0].RepoTags[0]' <<<"$output")" "$LY:latest"
        is "$(jq -r '.[0].RepoDigests[0]' <<<"$output")" "$LY@$(reg_digest layers latest)"
        is "$(jq -r '.[0].RootFS.Layers | join(" ")' <<<"$output")" \
                "$(reg_diff_ids layers latest | paste -sd' ')"
        is "$(jq -r '.[0].Config.WorkingDir' <<<"$output")" "/work"
        is "$(jq -r '.[0].Config.StopSignal' <<<"$output")" "SIGINT"
        is "$(jq -r '.[0].Architecture + "/" + .[0].Os' <<<"$output")" "amd64/linux"
        is "$(jq -r '.[0].ManifestType' <<<"$output")" "application/vnd.oci.image.manifest.v1+json"
        is "$(jq -r '.[0].Created' <<<"$output")" "2025-05-20T00:00:00Z|.*Z"
        is "$(jq -r '.[0].Size' <<<"$output")" "[0-9]+"
        is "$(jq -r '.[0].GraphDriver.Name' <<<"$output")" ".+"
        is "$(jq -r '[.[0].History[] | select(.empty_layer != true)] | length' <<<"$output")" 5
        local keys
        keys=$(jq -r '.[0] | keys_unsorted | join(",")' <<<"$output")
        is "$keys" "Id,Digest,RepoTags,RepoDigests,Parent,Comment,Created,Config,Version,Author,Architecture,Os,Size,VirtualSize,GraphDriver,RootFS,Labels,Annotations,ManifestType,User,History,NamesHistory"

        run_pea image inspect --format '{{.Digest}}' "$LY"
        is "$output" "$(reg_digest layers latest)"
        run_pea image inspect --format '{{.Id}} {{.Os}}' "$BB" "${LY_ID:0:12}"
        is "${lines[0]}" "$BB_ID linux"
        is "${lines[1]}" "$LY_ID linux"

        run_pea 125 image inspect nope
        is "${lines[0]}" "\[\]"
        is "${lines[1]}" "Error: inspecting object: nope: image not known"
}

@test "image exists: exit 0 or 1, no output" {
        run_pea image exists "$BB"
        is "$output" ""
        run_pea image exists "${BB_ID:0:12}"
        run_pea 1 image exists nope
        is "$output" ""
}

@test "tag and untag" {
        run_pea tag "$BB" mybb foo/bar:v1 "$PEA_REGISTRY/other:2"
        run_pea image inspect --format '{{range .RepoTags}}{{.}} {{end}}' "$BB_ID"
        is "$output" "$BB:latest localhost/mybb:latest localhost/foo/bar:v1 $PEA_REGISTRY/other:2 "
        # the filter picks images; an image shows a row per name
        run_pea images --format '{{.Repository}}:{{.Tag}}' --filter reference=mybb
        is "${#lines[@]}" 4
        assert_line "localhost/mybb:latest"

        run_pea untag "$BB" foo/bar:v1
        run_pea 125 untag "$BB" nope:1
        is "$output" "Error: localhost/nope:1: tag not known"
        # without names: all of them, the image becomes dangling
        run_pea untag "$BB_ID"
        run_pea image inspect --format '{{len .RepoTags}}' "$BB_ID"
        is "$output" 0
        run_pea images --format '{{.Repository}} {{.Tag}}' --filter dangling=true
        is "$output" "<none> <none>"
        run_pea 125 tag nope foo
        is "$output" "Error: nope: image not known"
        run_pea tag "$BB_ID" "$BB"
}

@test "rmi: podman's Untagged and Deleted lines and exit codes" {
        run_pea tag "$BB" extra:1
        # a name among several: only untagged
        run_pea rmi extra:1
        is "$output" "Untagged: localhost/extra:1"
        run_pea tag "$BB" extra:1
        run_pea 125 rmi "${BB_ID:0:12}"
        is "$output" "Error: unable to delete image \"$BB_ID\" by ID with more than one tag \(\[.*\]\): please force removal"
        run_pea rmi -f "${BB_ID:0:12}"
        is "${lines[-1]}" "Deleted: $BB_ID"
        assert_line "Untagged: $BB:latest"
        assert_line "Untagged: localhost/extra:1"
        run_pea 1 image exists "$BB"

        run_pea 1 rmi nope
        is "$output" "Error: nope: image not known"
        run_pea rmi -i nope
        is "$output" ""
        run_pea 125 rmi
        is "$output" "Error: image name or ID must be specified"
        run_pea 125 rmi -a nope
        is "$output" "Error: when using the --all switch, you may not pass any images names or IDs"
        assert_no_tmp
}

@test "history: podman's columns, --no-trunc, -q and JSON" {
        local n
        n=$(curl -sf "$REG_URL/v2/layers/blobs/sha256:$LY_ID" | jq '.history | length')
        run_pea history "$LY"
        is "${lines[0]}" "ID +CREATED +CREATED BY +SIZE +COMMENT"
        is "$((${#lines[@]} - 1))" "$n" "one row per history entry"
        is "${lines[1]}" "${LY_ID:0:12} +[0-9]+ (months|years) ago +.{42}\.\.\. +0 B *"
        # busybox is the image whose top layer is the layers image's first
        assert_line --regexp "^${BB_ID:0:12} +.* CMD \[\"sh\"\] +0 B *$"
        assert_line --regexp "^<missing> +.* +2\.14 MB *$"

        run_pea history --no-trunc "$LY"
        is "${lines[1]}" "$LY_ID .*ENTRYPOINT CMD WORKDIR USER EXPOSE LABEL STOPSIGNAL HEALTHCHECK .*"
        run_pea history -q "$LY"
        is "${lines[0]}" "${LY_ID:0:12}"
        is "${#lines[@]}" "$n"

        run_pea history --format json "$LY"
        json_valid "$output"
        is "$(jq 'length' <<<"$output")" "$n"
        is "$(jq -r '.[0].id' <<<"$output")" "$LY_ID"
        is "$(jq -r '[.[].size] | add' <<<"$output")" \
                "$(jq -s 'add' < <(for d in $(reg_diff_ids layers latest); do
                        jq -r --arg d "$d" 'select(.diff_id == $d) | .size' \
                                "$(layer_dir "$d")/layer.json"
                done))"
        run_pea history --format '{{.ID}} {{.Size}}' "$BB"
        is "${lines[-1]}" "<missing> 2.14 MB"
}

@test "image prune: dangling images, -a, and the prompt" {
        run_pea untag "$BB_ID"
        run_pea image prune -f
        is "$output" "$BB_ID"
        run_pea 1 image exists "$BB_ID"
        run_pea image exists "$LY"

        # without -f and without a TTY: podman's question, then EOF
        run_pea 125 image prune </dev/null
        is "$output" "WARNING! This command removes all dangling images.
Are you sure you want to continue\? \[y/N\] Error: EOF"
        run_pea image prune <<<"n"
        run_pea image exists "$LY"

        run_pea image prune -a -f
        assert_line "$LY_ID"
        run_pea images -q
        is "$output" ""
        assert_no_tmp
}

@test "images with 200 tags" {
        local i names=()
        for i in $(seq 200); do
                names+=("many/tag:$i")
        done
        run_pea tag "$BB" "${names[@]}"
        run_pea images --format '{{.Repository}}:{{.Tag}}' --filter reference='many/*'
        is "${#lines[@]}" 201 "200 tags and the image's own name"
        run_pea images -q "$BB"
        is "$output" "${BB_ID:0:12}" "one ID for 200 names"
        run_pea rmi -f "$BB_ID"
        is "${#lines[@]}" 202 "201 Untagged lines and one Deleted"
}
