"""Re-saves a workbook with LibreOffice, as an officer who typed the answers in would.

Run with a Python that has LibreOffice's `uno` module (Debian: python3-uno):
    python3 lo_refit_resave.py SRC.xlsx DST.xlsx PROFILE_DIR PIPE_NAME

LibreOffice fits a row to its text when a cell in it is edited, unless the row has a
fixed (manual) height. A script that fills cells (openpyxl) edits nothing in
LibreOffice, and `soffice --convert-to` does not refit rows on load, so this does what
typing would: every row of a visible sheet that LibreOffice holds as "optimal height"
(not fixed) is refitted; rows with a fixed height keep it. Then the file is saved as
xlsx. A form with fixed row heights or merged answer cells still cuts answers off.
"""
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def main():
    src, dst, profile, pipe = sys.argv[1:5]
    office = subprocess.Popen(
        [
            "soffice",
            f"-env:UserInstallation={uno.systemPathToFileUrl(profile)}",
            "--headless",
            "--norestore",
            "--nologo",
            "--nodefault",
            f"--accept=pipe,name={pipe};urp;",
        ]
    )
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local
        )
        ctx = None
        for _ in range(240):
            try:
                ctx = resolver.resolve(
                    f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext"
                )
                break
            except Exception:
                time.sleep(0.5)
        if ctx is None:
            sys.exit("LibreOffice did not start")
        desktop = ctx.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", ctx
        )
        doc = desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(src), "_blank", 0, (prop("Hidden", True),)
        )
        refitted = fixed = 0
        for i in range(doc.Sheets.Count):
            sheet = doc.Sheets.getByIndex(i)
            if not sheet.IsVisible:
                continue
            cursor = sheet.createCursor()
            cursor.gotoEndOfUsedArea(False)
            for r in range(cursor.RangeAddress.EndRow + 1):
                row = sheet.Rows.getByIndex(r)
                if row.OptimalHeight:
                    row.OptimalHeight = True
                    refitted += 1
                else:
                    fixed += 1
        doc.storeToURL(
            uno.systemPathToFileUrl(dst),
            (prop("FilterName", "Calc MS Excel 2007 XML"),),
        )
        doc.close(True)
        print(f"refitted {refitted} rows; {fixed} rows have a fixed height")
        try:
            desktop.terminate()
        except Exception:
            pass
        office.wait(timeout=120)
    finally:
        if office.poll() is None:
            office.kill()


main()
