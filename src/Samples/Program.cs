Console.WriteLine("samples");
