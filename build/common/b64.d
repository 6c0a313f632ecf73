build/common/b64.o: common/b64.c common/pidbox.h
common/pidbox.h:
