/* SPDX-License-Identifier: ISC */
/*
 * ctl/report.h -- `loadctl report`: a results log drawn as one
 * self-contained HTML or SVG file.  Uses common/ only.
 */
#ifndef LOADD_CTL_REPORT_H
#define LOADD_CTL_REPORT_H

int	 report_main(int argc, char *argv[]);

#endif
