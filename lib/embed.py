"""Build helper: writes a C header that holds a text file as a string
constant.  Usage: embed.py NAME INPUT OUTPUT."""
import sys

name, src, dst = sys.argv[1:4]
with open(src, encoding="utf-8") as f:
    text = f.read()
lines = "".join('\t"%s\\n"\n' % l.replace("\\", "\\\\").replace('"', '\\"')
                for l in text.splitlines())
with open(dst, "w", encoding="utf-8") as f:
    f.write("/* Generated from %s by lib/embed.py: do not edit. */\n" % src.split("/")[-1])
    f.write("static const char %s[] =\n%s;\n" % (name, lines or '\t""'))
