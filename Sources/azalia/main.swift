print("azalia")
