/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The public header of lib/base: error, cleanup, log, util, fs, json, template, config. */
#include "cleanup.h"
#include "config-file.h"
#include "error.h"
#include "fs.h"
#include "jsonutil.h"
#include "log.h"
#include "template.h"
#include "toml.h"
#include "util.h"
